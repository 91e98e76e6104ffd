<?php
/* Helpers shared by the peer services. */

declare(strict_types=1);

/**
 * Render a float as an xsd:decimal lexical value: never exponent notation, at most 15
 * significant digits (the precision a double carries), no trailing zeros. 10/4 -> "2.5",
 * 10/2 -> "5", 1/3 -> "0.333333333333333", 0.3/0.1 -> "3".
 */
function xsd_decimal(float $value): string
{
    if (!is_finite($value)) {
        throw new InvalidArgumentException('not a finite number');
    }
    if ($value == 0.0) {
        return '0';
    }
    $magnitude = (int) floor(log10(abs($value))) + 1;   // digits before the point
    $fraction = max(0, 15 - $magnitude);
    $text = sprintf('%.' . $fraction . 'F', $value);
    if (str_contains($text, '.')) {
        $text = rtrim(rtrim($text, '0'), '.');
    }
    return $text === '-0' ? '0' : $text;
}

/** Number of characters (not bytes) in a UTF-8 string, without relying on mbstring. */
function utf8_length(string $text): int
{
    $n = preg_match_all('/./su', $text);
    return $n === false ? strlen($text) : $n;
}

/**
 * A Client fault WITHOUT a detail, for errors that are not a declared wsdl:fault.
 *
 * ext/soap quirk: when the operation declares exactly one wsdl:fault and a SoapFault has no fault
 * name, ext/soap serialises that declared fault anyway, as an empty detail element (e.g.
 * <detail><ns1:DivisionByZeroFault/></detail>). Naming a fault the operation does not declare
 * suppresses this, so the reply carries no detail at all.
 */
function undeclared_fault(string $reason, string $code = 'Client'): SoapFault
{
    return new SoapFault($code, $reason, null, null, 'UndeclaredFault');
}
