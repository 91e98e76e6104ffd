// The interop contract (wsdl/interop.wsdl) served by node-soap, for soapbridge's interop tests.
//
//   node tests/interop/node/server.js [PORT]     (PORT 0 or absent: a free port)
//
// Prints "listening PORT" on stdout once it serves, then:
//   POST /soap11   SOAP 1.1 (port InteropSoap)
//   POST /soap12   SOAP 1.2 (port InteropSoap12; a second listener with forceSoap12Headers)
//   GET  /health   "ok"
//
// node-soap picks the WSDL port whose soap:address path is the request's path, so each listener
// gets the WSDL with its own port's address rewritten to its path.
//
// node-soap quirks handled here:
// - a thrown fault is sent with HTTP 200 unless it sets statusCode: 500;
// - detail keys need the tns: prefix (declared by the WSDL's definitions element) to come out
//   namespace-qualified;
// - the fault object's shape picks the SOAP version's fault layout: faultcode/faultstring (1.1)
//   or Code/Reason (1.2); it does not follow the listener.
// - a repeated element arrives as an array, a single one as a scalar;
// - string values are trimmed on the way in (" a  b " arrives as "a  b", which xsd:string does
//   not allow) unless the WSDL's preserveWhitespace option is set; soap.listen() does not pass
//   that option through to the WSDL, so it is set on each listener's WSDL after the fact.
'use strict';

const fs = require('fs');
const http = require('http');
const path = require('path');
const soap = require('soap');

const WSDL = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'wsdl', 'interop.wsdl'), 'utf8');
const INT_MIN = -2147483648;
const INT_MAX = 2147483647;
const TALLY_LIMIT = 20;

function decimalText(value) {
  // xsd:decimal has no exponent; JS only uses one outside 1e-7..1e21, which the tests avoid
  const text = String(value);
  if (/e/i.test(text)) {
    throw new Error(`cannot write ${text} as an xsd:decimal`);
  }
  return text === '-0' ? '0' : text;
}

function fault(version, category, reason, detail) {
  if (version === '1.1') {
    const f = { faultcode: `soap:${category === 'client' ? 'Client' : 'Server'}`, faultstring: reason, statusCode: 500 };
    if (detail) f.detail = detail;
    return { Fault: f };
  }
  const f = {
    Code: { Value: `soap:${category === 'client' ? 'Sender' : 'Receiver'}` },
    Reason: { Text: reason },
    statusCode: 500,
  };
  if (detail) f.Detail = detail;
  return { Fault: f };
}

function operations(version) {
  return {
    Add(args) {
      const sum = Number(args.a) + Number(args.b);
      if (sum < INT_MIN || sum > INT_MAX) {
        throw fault(version, 'server', 'result out of range for xs:int');
      }
      return { result: sum };
    },
    Divide(args) {
      const dividend = Number(args.dividend);
      const divisor = Number(args.divisor);
      if (divisor === 0) {
        const text = decimalText(dividend);
        throw fault(version, 'client', 'division by zero', {
          'tns:DivisionByZeroFault': { 'tns:dividend': text, 'tns:message': `cannot divide ${text} by zero` },
        });
      }
      return { quotient: decimalText(dividend / divisor) };
    },
    Tally(args) {
      let words = args && args.word !== undefined ? args.word : [];
      words = (Array.isArray(words) ? words : [words]).map((w) => (w === null || w === undefined ? '' : String(w)));
      if (words.length > TALLY_LIMIT) {
        throw fault(version, 'client', 'too many words', {
          'tns:TooManyWordsFault': { 'tns:limit': TALLY_LIMIT, 'tns:received': words.length },
        });
      }
      const counts = new Map(); // keeps first-insertion order, whatever the keys look like
      for (const w of words) counts.set(w, (counts.get(w) || 0) + 1);
      return { total: words.length, entry: [...counts].map(([word, count]) => ({ word, count })) };
    },
  };
}

const services = {
  InteropService: { InteropSoap: operations('1.1'), InteropSoap12: operations('1.2') },
};

function wsdlFor(port, pathname) {
  // point this port's address at the listener's path (and the other port elsewhere)
  const re = new RegExp(`(<wsdl:port name="${port}"[^>]*>\\s*<soap(?:12)?:address location=")[^"]*(")`);
  return WSDL.replace(re, `$1http://127.0.0.1${pathname}$2`);
}

const server = http.createServer((req, res) => {
  if (req.url === '/health') {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('ok\n');
    return;
  }
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end(`no SOAP service at ${req.url}\n`);
});

const port = Number(process.argv[2] || 0);
server.listen(port, '127.0.0.1', () => {
  const listeners = [
    soap.listen(server, { path: '/soap11', services, xml: wsdlFor('InteropSoap', '/soap11') }),
    soap.listen(server, { path: '/soap12', services, xml: wsdlFor('InteropSoap12', '/soap12'), forceSoap12Headers: true }),
  ];
  for (const listener of listeners) {
    listener.wsdl.options.preserveWhitespace = true; // see the quirks above: listen() drops the option
  }
  process.stdout.write(`listening ${server.address().port}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
