<?php
/*
 * Router for PHP's built-in web server: the independent SOAP peer used by the interop tests.
 *
 *   php -S 127.0.0.1:PORT tests/interop/php/router.php
 *
 * Routes (by request path):
 *   POST /calculator   CalculatorService  (wsdl/calculator.wsdl, SOAP 1.1 and 1.2)
 *   POST /orders       OrderService       (wsdl/orders.wsdl, SOAP 1.1)
 *   POST /inventory    InventoryService   (wsdl/rpc-literal.wsdl, SOAP 1.1 rpc/literal)
 *   POST /interop      InteropService     (wsdl/interop.wsdl, the interop contract, SOAP 1.1 and 1.2)
 *   POST /rpc-encoded  RpcEncodedService  (tests/conformance/wsdl/wsdl_rpc_encoded.wsdl, SOAP 1.1
 *                      rpc/encoded with SOAP-encoded arrays)
 *   GET  /<service>?wsdl  the WSDL, with soap:address rewritten to this server
 *   GET  /health       "ok" (readiness probe)
 *
 * The server is stateless: `php -S` runs every request in a fresh PHP request context, so all
 * answers are computed from the request alone.
 */

declare(strict_types=1);

require_once __DIR__ . '/lib.php';
require_once __DIR__ . '/CalculatorService.php';
require_once __DIR__ . '/OrderService.php';
require_once __DIR__ . '/InventoryService.php';
require_once __DIR__ . '/RpcEncodedService.php';
require_once __DIR__ . '/InteropService.php';

const WSDL_DIR = __DIR__ . '/../../../wsdl';

const ROUTES = [
    '/calculator' => ['wsdl' => 'calculator.wsdl', 'class' => CalculatorService::class],
    '/orders' => ['wsdl' => 'orders.wsdl', 'class' => OrderService::class],
    '/inventory' => ['wsdl' => 'rpc-literal.wsdl', 'class' => InventoryService::class],
    '/interop' => ['wsdl' => 'interop.wsdl', 'class' => InteropService::class],
    // relative to WSDL_DIR: the conformance fixture, not a sample
    '/rpc-encoded' => ['wsdl' => '../tests/conformance/wsdl/wsdl_rpc_encoded.wsdl', 'class' => RpcEncodedService::class],
];

ini_set('soap.wsdl_cache_enabled', '0');
ini_set('display_errors', '0');   // never let a PHP warning corrupt a SOAP envelope
ini_set('log_errors', '1');       // ...it goes to the server's stderr instead

$method = $_SERVER['REQUEST_METHOD'] ?? 'GET';
$path = parse_url($_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH) ?: '/';
$path = rtrim($path, '/') ?: '/';

if ($path === '/health' || $path === '/') {
    header('Content-Type: text/plain; charset=utf-8');
    echo "ok\n";
    return true;
}

if (!isset(ROUTES[$path])) {
    http_response_code(404);
    header('Content-Type: text/plain; charset=utf-8');
    echo "no SOAP service at $path\n";
    return true;
}

$route = ROUTES[$path];
$wsdlPath = realpath(WSDL_DIR . '/' . $route['wsdl']);
if ($wsdlPath === false) {
    http_response_code(500);
    header('Content-Type: text/plain; charset=utf-8');
    echo "WSDL file {$route['wsdl']} not found under " . WSDL_DIR . "\n";
    return true;
}

if ($method === 'GET') {
    if (isset($_GET['wsdl']) || isset($_GET['WSDL'])) {
        $self = 'http://' . ($_SERVER['HTTP_HOST'] ?? ($_SERVER['SERVER_NAME'] . ':' . $_SERVER['SERVER_PORT'])) . $path;
        $xml = file_get_contents($wsdlPath);
        $xml = preg_replace('/(<soap(?:12)?:address\s+location=")[^"]*(")/', '${1}' . htmlspecialchars($self, ENT_XML1) . '${2}', $xml);
        header('Content-Type: text/xml; charset=utf-8');
        echo $xml;
        return true;
    }
    http_response_code(405);
    header('Allow: POST');
    header('Content-Type: text/plain; charset=utf-8');
    echo "POST a SOAP envelope to $path (or GET $path?wsdl)\n";
    return true;
}

// SOAP 1.2 requests are sent as application/soap+xml; SOAP 1.1 as text/xml.
$contentType = strtolower($_SERVER['CONTENT_TYPE'] ?? $_SERVER['HTTP_CONTENT_TYPE'] ?? '');
$soapVersion = str_starts_with(ltrim($contentType), 'application/soap+xml') ? SOAP_1_2 : SOAP_1_1;

$server = new SoapServer($wsdlPath, [
    'soap_version' => $soapVersion,
    'cache_wsdl' => WSDL_CACHE_NONE,
    'encoding' => 'UTF-8',
    // always decode maxOccurs>1 elements as PHP arrays, even when only one occurrence arrives
    'features' => SOAP_SINGLE_ELEMENT_ARRAYS,
]);
$handler = new $route['class']($server, $soapVersion);
$server->setObject($handler);
$server->handle();
return true;
