// The interop contract (wsdl/interop.wsdl) served by the JAX-WS RI (Metro 2.3), WSDL-first, for
// soapbridge's interop tests.
//
// Built by the jaxws_server fixture (tests/interop/conftest.py):
//   wsimport -extension -keep -Xnocompile -s gen -p dev.soapbridge.interop wsdl/interop.wsdl
//   javac -cp /usr/share/java/jaxws-rt.jar -d classes gen/dev/soapbridge/interop/*.java InteropServer.java
// then run as `java -cp classes:/usr/share/java/jaxws-rt.jar InteropServer PORT`:
//   POST /soap11   SOAP 1.1      POST /soap12   SOAP 1.2      GET /health   "ok"
//   POST /soap11-wsa, /soap12-wsa: the same, with WS-Addressing required (AddressingFeature)
// (`-extension`: wsimport skips a SOAP 1.2 port without it.)
//
// JAX-WS quirks handled here:
// - a declared fault thrown the usual way (the generated DivisionByZeroFault_Exception) goes out
//   as S:Server / S:Receiver; the contract says Client / Sender, so the faults are built with SAAJ
//   and thrown as SOAPFaultException, their typed detail marshalled by JAXB from the generated
//   classes;
// - an unchecked exception would go out with the Java stack trace in the detail; the undeclared
//   Add overflow fault is a SOAPFaultException without detail instead;
// - the JDK's HTTP server is slow with Nagle's algorithm on: the fixture runs the JVM with
//   -Dsun.net.httpserver.nodelay=true.
import com.sun.net.httpserver.HttpServer;
import dev.soapbridge.interop.DivisionByZeroFault;
import dev.soapbridge.interop.DivisionByZeroFault_Exception;
import dev.soapbridge.interop.InteropPortType;
import dev.soapbridge.interop.TooManyWordsFault;
import dev.soapbridge.interop.TooManyWordsFault_Exception;
import dev.soapbridge.interop.WordCount;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.math.MathContext;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.jws.WebService;
import javax.xml.bind.JAXBContext;
import javax.xml.bind.JAXBException;
import javax.xml.namespace.QName;
import javax.xml.soap.SOAPConstants;
import javax.xml.soap.SOAPException;
import javax.xml.soap.SOAPFactory;
import javax.xml.soap.SOAPFault;
import javax.xml.ws.Endpoint;
import javax.xml.ws.Holder;
import javax.xml.ws.soap.AddressingFeature;
import javax.xml.ws.soap.SOAPBinding;
import javax.xml.ws.soap.SOAPFaultException;

@WebService(
    endpointInterface = "dev.soapbridge.interop.InteropPortType",
    targetNamespace = "http://soapbridge.dev/samples/interop",
    serviceName = "InteropService",
    portName = "InteropSoap")
public class InteropServer implements InteropPortType {
    private static final int TALLY_LIMIT = 20;
    private final boolean soap12;

    public InteropServer(boolean soap12) {
        this.soap12 = soap12;
    }

    @Override
    public int add(int a, int b) {
        long sum = (long) a + b;
        if (sum < Integer.MIN_VALUE || sum > Integer.MAX_VALUE) {
            throw fault(false, "result out of range for xs:int", null);
        }
        return (int) sum;
    }

    @Override
    public BigDecimal divide(BigDecimal dividend, BigDecimal divisor) throws DivisionByZeroFault_Exception {
        if (divisor.signum() == 0) {
            DivisionByZeroFault info = new DivisionByZeroFault();
            info.setDividend(dividend.stripTrailingZeros());
            info.setMessage("cannot divide " + plain(dividend) + " by zero");
            throw fault(true, "division by zero", info);
        }
        return new BigDecimal(plain(dividend.divide(divisor, MathContext.DECIMAL64)));
    }

    @Override
    public void tally(List<String> word, Holder<Integer> total, Holder<List<WordCount>> entry) throws TooManyWordsFault_Exception {
        if (word.size() > TALLY_LIMIT) {
            TooManyWordsFault info = new TooManyWordsFault();
            info.setLimit(TALLY_LIMIT);
            info.setReceived(word.size());
            throw fault(true, "too many words", info);
        }
        Map<String, Integer> counts = new LinkedHashMap<>(); // first appearance first
        for (String w : word) {
            counts.merge(w, 1, Integer::sum);
        }
        List<WordCount> entries = new ArrayList<>();
        for (Map.Entry<String, Integer> c : counts.entrySet()) {
            WordCount wc = new WordCount();
            wc.setWord(c.getKey());
            wc.setCount(c.getValue());
            entries.add(wc);
        }
        total.value = word.size();
        entry.value = entries;
    }

    /** An xsd:decimal lexical value: no exponent, no trailing zeros. */
    private static String plain(BigDecimal value) {
        String text = value.stripTrailingZeros().toPlainString();
        return text.equals("-0") ? "0" : text;
    }

    /** A Client/Sender (client=true) or Server/Receiver fault in this endpoint's SOAP version. */
    private SOAPFaultException fault(boolean client, String reason, Object detail) {
        try {
            String protocol = soap12 ? SOAPConstants.SOAP_1_2_PROTOCOL : SOAPConstants.SOAP_1_1_PROTOCOL;
            String env = soap12 ? SOAPConstants.URI_NS_SOAP_1_2_ENVELOPE : SOAPConstants.URI_NS_SOAP_1_1_ENVELOPE;
            String code = soap12 ? (client ? "Sender" : "Receiver") : (client ? "Client" : "Server");
            SOAPFault fault = SOAPFactory.newInstance(protocol).createFault(reason, new QName(env, code));
            if (detail != null) {
                JAXBContext.newInstance(detail.getClass()).createMarshaller().marshal(detail, fault.addDetail());
            }
            return new SOAPFaultException(fault);
        } catch (SOAPException | JAXBException e) {
            throw new IllegalStateException(e);
        }
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 64);
        server.createContext("/health", exchange -> {
            byte[] ok = "ok\n".getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain");
            exchange.sendResponseHeaders(200, ok.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(ok);
            }
        });
        Endpoint.create(SOAPBinding.SOAP11HTTP_BINDING, new InteropServer(false)).publish(server.createContext("/soap11"));
        Endpoint.create(SOAPBinding.SOAP12HTTP_BINDING, new InteropServer(true)).publish(server.createContext("/soap12"));
        // the same service with WS-Addressing required (as @Addressing(required = true) does): a
        // request without the headers gets a fault
        Endpoint.create(SOAPBinding.SOAP11HTTP_BINDING, new InteropServer(false), new AddressingFeature(true, true))
            .publish(server.createContext("/soap11-wsa"));
        Endpoint.create(SOAPBinding.SOAP12HTTP_BINDING, new InteropServer(true), new AddressingFeature(true, true))
            .publish(server.createContext("/soap12-wsa"));
        server.start();
        System.out.println("listening " + port);
    }
}
