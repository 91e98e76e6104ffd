<?php
/*
 * RpcEncodedService (tests/conformance/wsdl/wsdl_rpc_encoded.wsdl): rpc/encoded SOAP 1.1 with
 * SOAP-encoded arrays (soapenc:Array + wsdl:arrayType) in requests and replies.
 */

declare(strict_types=1);

final class RpcEncodedService
{
    public function __construct(private SoapServer $server, private int $soapVersion)
    {
    }

    /** Join(words:ArrayOfString, separator:string) -> (result:string) */
    public function Join($words, $separator): string
    {
        $items = array_map(static fn ($w): string => (string) $w, (array) $words);
        return implode((string) $separator, $items);
    }

    /** Split(text:string) -> (words:ArrayOfString), on single spaces. */
    public function Split($text): array
    {
        $text = (string) $text;
        return $text === '' ? [] : explode(' ', $text);
    }

    /**
     * FindPeople(names:ArrayOfString, minAge:int) -> (people:ArrayOfPerson, oldest:Person)
     * Each name becomes a person aged minAge + its length; several output parts are returned
     * as an array keyed by part name.
     */
    public function FindPeople($names, $minAge): array
    {
        $people = [];
        foreach ((array) $names as $name) {
            $name = (string) $name;
            $people[] = ['name' => $name, 'age' => (int) $minAge + utf8_length($name)];
        }
        if ($people === []) {
            throw undeclared_fault('names must not be empty');
        }
        $oldest = $people[0];
        foreach ($people as $p) {
            if ($p['age'] > $oldest['age']) {
                $oldest = $p;
            }
        }
        return ['people' => $people, 'oldest' => $oldest];
    }
}
