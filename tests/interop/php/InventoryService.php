<?php
/* InventoryService (wsdl/rpc-literal.wsdl): rpc/literal SOAP 1.1, parts declared with type=. */

declare(strict_types=1);

final class InventoryService
{
    public const NS = 'http://soapbridge.dev/samples/inventory';

    public function __construct(private SoapServer $server, private int $soapVersion)
    {
    }

    /**
     * CheckStock(sku:string, warehouse:string) -> (quantity:int, available:boolean)
     * RPC style: each message part is a PHP argument; several output parts are returned as an
     * array keyed by part name.
     */
    public function CheckStock($sku, $warehouse): array
    {
        $quantity = strlen((string) $sku) * 10;
        return ['quantity' => $quantity, 'available' => $quantity > 0];
    }

    /** GetItem(sku:string) -> (item:tns:Item) */
    public function GetItem($sku): array
    {
        $sku = (string) $sku;
        return [
            'sku' => $sku,
            'name' => 'Widget ' . $sku,
            'price' => '12.50',
            'tags' => ['hardware', 'blue'],
        ];
    }
}
