<?php
/* CalculatorService (wsdl/calculator.wsdl): document/literal wrapped, SOAP 1.1 and 1.2. */

declare(strict_types=1);

final class CalculatorService
{
    public const NS = 'http://soapbridge.dev/samples/calculator';
    private const INT_MIN = -2147483648;
    private const INT_MAX = 2147483647;

    public function __construct(private SoapServer $server, private int $soapVersion)
    {
    }

    /** Add(a:int, b:int) -> AddResponse(result:int) */
    public function Add($request): array
    {
        // ext/soap does not enforce minOccurs: check the required elements ourselves
        $a = self::required($request, 'a');
        $b = self::required($request, 'b');
        $sum = (int) $a + (int) $b;
        if ($sum < self::INT_MIN || $sum > self::INT_MAX) {
            throw undeclared_fault('result out of range for xs:int');
        }
        return ['result' => $sum];
    }

    /**
     * Divide(dividend:decimal, divisor:decimal) -> DivideResponse(quotient:decimal)
     * Faults with the declared DivisionByZero fault when divisor is zero: code Client, except for
     * 0/0, where it comes with a Server code, as Java stacks send every declared exception.
     */
    public function Divide($request): array
    {
        // ext/soap hands xs:decimal over as the lexical string, unchecked
        $dividend = self::decimal(self::required($request, 'dividend'), 'dividend');
        $divisor = self::decimal(self::required($request, 'divisor'), 'divisor');
        if ($divisor == 0.0) {
            // "Client" is mapped by ext/soap to SOAP-ENV:Client (1.1) or env:Sender (1.2); passing
            // "Sender" would NOT be namespace-qualified. The detail is the *content* of the fault
            // element: ext/soap wraps it in tns:DivisionByZeroFault because the 5th argument names
            // the wsdl:fault declared on the operation being executed.
            throw new SoapFault(
                $dividend == 0.0 ? 'Server' : 'Client',
                'division by zero',
                null,
                [
                    'dividend' => xsd_decimal($dividend),
                    'message' => 'cannot divide ' . xsd_decimal($dividend) . ' by zero',
                ],
                'DivisionByZero'
            );
        }
        return ['quotient' => xsd_decimal($dividend / $divisor)];
    }

    /** Echo(text:string maxLength 100) -> EchoResponse(text:string) */
    public function Echo($request): array
    {
        $text = (string) self::required($request, 'text');
        if (utf8_length($text) > 100) {
            throw undeclared_fault('text is longer than 100 characters');
        }
        return ['text' => $text];
    }

    private static function required($request, string $name)
    {
        if (!is_object($request) || !isset($request->$name)) {
            throw undeclared_fault("missing required element '$name'");
        }
        return $request->$name;
    }

    private static function decimal($value, string $name): float
    {
        $text = trim((string) $value);
        if (!preg_match('/^[+-]?(\d+(\.\d*)?|\.\d+)$/', $text)) {
            throw undeclared_fault("'$name' is not an xs:decimal");
        }
        return (float) $text;
    }
}
