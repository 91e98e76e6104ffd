<?php
/*
 * InteropService (wsdl/interop.wsdl): the interop contract every peer serves. Document/literal
 * wrapped, SOAP 1.1 and 1.2 (the router picks the version from the request's content type).
 */

declare(strict_types=1);

final class InteropService
{
    public const NS = 'http://soapbridge.dev/samples/interop';
    private const INT_MIN = -2147483648;
    private const INT_MAX = 2147483647;
    private const TALLY_LIMIT = 20;

    public function __construct(private SoapServer $server, private int $soapVersion)
    {
    }

    /** Add(a:int, b:int) -> AddResponse(result:int); overflow is a Server fault without detail. */
    public function Add($request): array
    {
        $sum = (int) $request->a + (int) $request->b;
        if ($sum < self::INT_MIN || $sum > self::INT_MAX) {
            // "Server" becomes SOAP-ENV:Server (1.1) / env:Receiver (1.2)
            throw new SoapFault('Server', 'result out of range for xs:int');
        }
        return ['result' => $sum];
    }

    /** Divide(dividend:decimal, divisor:decimal) -> DivideResponse(quotient:decimal), fault DivisionByZero. */
    public function Divide($request): array
    {
        $dividend = (float) $request->dividend;
        $divisor = (float) $request->divisor;
        if ($divisor == 0.0) {
            // the 5th argument names the declared wsdl:fault: ext/soap wraps the detail in
            // tns:DivisionByZeroFault
            throw new SoapFault(
                'Client',
                'division by zero',
                null,
                ['dividend' => xsd_decimal($dividend), 'message' => 'cannot divide ' . xsd_decimal($dividend) . ' by zero'],
                'DivisionByZero'
            );
        }
        return ['quotient' => xsd_decimal($dividend / $divisor)];
    }

    /** Tally(word*) -> TallyResponse(total, entry*: one per distinct word, first appearance first). */
    public function Tally($request): array
    {
        // SOAP_SINGLE_ELEMENT_ARRAYS: `word` is an array whenever present
        $words = isset($request->word) ? array_map('strval', (array) $request->word) : [];
        if (count($words) > self::TALLY_LIMIT) {
            throw new SoapFault(
                'Client',
                'too many words',
                null,
                ['limit' => self::TALLY_LIMIT, 'received' => count($words)],
                'TooManyWords'
            );
        }
        $counts = [];
        foreach ($words as $w) {
            // string keys only: PHP turns numeric-string array keys into ints, so keep the order in a list
            $counts['k' . $w] = ($counts['k' . $w] ?? 0) + 1;
        }
        $entries = [];
        foreach ($counts as $key => $n) {
            $entries[] = ['word' => substr((string) $key, 1), 'count' => $n];
        }
        return ['total' => count($words), 'entry' => $entries];
    }
}
