<?php
/*
 * OrderService (wsdl/orders.wsdl): document/literal wrapped SOAP 1.1 with headers and faults.
 *
 * Deterministic (no state survives between requests under `php -S`):
 *   GetOrder(orderId)   orderId starting with "missing" -> OrderNotFound fault;
 *                       starting with "biz"             -> customer is a tns:BusinessCustomer (xsi:type);
 *                       otherwise a fixed, fully populated order (2 lines, nil note) echoing orderId.
 *                       Always sets the RequestInfo output header: requestId "req-<tenant>-<orderId>".
 *   CreateOrder(order)  orderId "ORD-<number of lines>-<characters in customer name>", status PENDING.
 *   ListOrders(status?, limit?)  `limit` (default 2) orders with `status` (default PENDING).
 */

declare(strict_types=1);

final class OrderService
{
    public const NS = 'http://soapbridge.dev/samples/orders';

    private ?string $tenant = null;
    private ?string $apiKey = null;

    public function __construct(private SoapServer $server, private int $soapVersion)
    {
    }

    /** Called by ext/soap for the tns:AuthHeader input header, before the operation. */
    public function AuthHeader($header): void
    {
        $this->apiKey = isset($header->apiKey) ? (string) $header->apiKey : null;
        $this->tenant = isset($header->tenant) ? (string) $header->tenant : null;
    }

    public function CreateOrder($request): array
    {
        $order = $request->order ?? null;
        $lines = $order->line ?? [];
        $lines = is_array($lines) ? $lines : [$lines];
        $name = (string) ($order->customer->name ?? '');
        return [
            'orderId' => sprintf('ORD-%d-%d', count($lines), utf8_length($name)),
            'status' => 'PENDING',
        ];
    }

    public function GetOrder($request): array
    {
        if (!isset($request->orderId)) {
            throw undeclared_fault("missing required element 'orderId'");
        }
        $orderId = (string) $request->orderId;
        if (str_starts_with($orderId, 'missing')) {
            throw new SoapFault('Client', 'order not found', null, ['orderId' => $orderId], 'OrderNotFound');
        }
        $this->server->addSoapHeader(new SoapHeader(
            self::NS,
            'RequestInfo',
            ['requestId' => sprintf('req-%s-%s', $this->tenant ?? 'anonymous', $orderId)]
        ));
        return ['order' => self::fixedOrder($orderId, str_starts_with($orderId, 'biz'))];
    }

    public function ListOrders($request): array
    {
        $status = isset($request->status) ? (string) $request->status : 'PENDING';
        $limit = isset($request->limit) ? (int) $request->limit : 2;
        if ($limit < 1 || $limit > 100) {
            throw undeclared_fault('limit must be between 1 and 100');
        }
        $orders = [];
        for ($i = 1; $i <= $limit; $i++) {
            $orders[] = self::listedOrder($i, $status);
        }
        return ['order' => $orders];
    }

    /** The fixed, fully populated order returned by GetOrder. */
    private static function fixedOrder(string $orderId, bool $business): array
    {
        $customer = [
            'name' => 'Ada Lovelace',
            'email' => 'ada@example.com',
            'address' => [
                'street' => "12 St James's Square",
                'city' => 'London',
                'postalCode' => 'SW1Y 4JH',
                'country' => 'GB',
            ],
        ];
        if ($business) {
            $customer['name'] = 'Analytical Engines Ltd';
            $customer['vatNumber'] = 'GB123456789';
            // derived type: sent with xsi:type="tns:BusinessCustomer"
            $customer = new SoapVar($customer, SOAP_ENC_OBJECT, 'BusinessCustomer', self::NS);
        }
        return [
            'orderId' => $orderId,
            'status' => 'SHIPPED',
            'customer' => $customer,
            'orderDate' => '2024-03-15',
            'createdAt' => '2024-03-15T09:30:00Z',
            'line' => [
                [
                    'sku' => 'SKU-001',           // attribute (required)
                    'lineNo' => 1,                 // attribute (optional)
                    'product' => 'Difference Engine manual',
                    'quantity' => 2,
                    'unitPrice' => ['_' => '19.99', 'currency' => 'GBP'],   // simpleContent + attribute
                ],
                [
                    'sku' => 'SKU-002',           // no lineNo: optional attribute left out
                    'product' => 'Brass gear',
                    'quantity' => 10,
                    'unitPrice' => ['_' => '3.50', 'currency' => 'GBP'],
                ],
            ],
            'total' => ['_' => '74.98', 'currency' => 'GBP'],
            'note' => null,                        // nillable + required -> xsi:nil="true"
        ];
    }

    /**
     * Orders returned by ListOrders. They rotate through the three states of the optional,
     * nillable Customer/email: present, xsi:nil, absent.
     */
    private static function listedOrder(int $i, string $status): array
    {
        $customer = [
            'name' => "Customer $i",
            'address' => ['street' => "$i Main Street", 'city' => 'Springfield', 'country' => 'US'],
        ];
        switch ($i % 3) {
            case 1:
                $customer['email'] = "customer$i@example.com";
                break;
            case 2:
                $customer['email'] = null;   // nillable -> xsi:nil="true"
                break;
            default:
                break;                       // minOccurs=0 -> element omitted
        }
        $price = sprintf('%.2F', 9.5 + $i);
        return [
            'orderId' => sprintf('ORD-%04d', 1000 + $i),
            'status' => $status,
            'customer' => $customer,
            'orderDate' => sprintf('2024-01-%02d', 1 + ($i - 1) % 28),
            'line' => [
                ['sku' => "SKU-$i", 'lineNo' => 1, 'product' => "Product $i", 'quantity' => 1,
                 'unitPrice' => ['_' => $price, 'currency' => 'USD']],
            ],
            'total' => ['_' => $price, 'currency' => 'USD'],
            'note' => $i % 2 === 1 ? "note for order $i" : null,
        ];
    }
}
