// wsdl/claims.wsdl served by the JAX-WS RI (Metro 2.3), WSDL-first, for soapbridge's WS-I swaRef
// interop tests (tests/interop/test_swaref_jaxws.py). wsimport maps wsi:swaRef to a
// javax.activation.DataHandler (JAXB's @XmlAttachmentRef): the RI reads and writes the attachment.
//
// Built by the jaxws_claims_server fixture (tests/interop/conftest.py):
//   wsimport -extension -keep -Xnocompile -catalog catalog.xml -s gen -p dev.soapbridge.claims claims.wsdl
//   javac -cp /usr/share/java/jaxws-rt.jar -d classes gen/dev/soapbridge/claims/*.java ClaimServer.java
// then run as `java -cp classes:/usr/share/java/jaxws-rt.jar ClaimServer PORT`:
//   POST /claims   SOAP 1.1     GET /health   "ok"     GET /last-request   the last SendClaim's Content-Type
// SendClaim reads the attachment its swaRef names and answers "<size>:<sha256 hex>" of its bytes,
// computed here: the oracle. GetClaimForm returns the bytes of that claim as a swaRef attachment.
import com.sun.net.httpserver.HttpServer;
import dev.soapbridge.claims.ClaimPortType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.activation.DataHandler;
import javax.activation.DataSource;
import javax.annotation.Resource;
import javax.jws.WebService;
import javax.xml.ws.Endpoint;
import javax.xml.ws.WebServiceContext;
import javax.xml.ws.handler.MessageContext;
import javax.xml.ws.soap.SOAPBinding;

@WebService(
    endpointInterface = "dev.soapbridge.claims.ClaimPortType",
    targetNamespace = "http://soapbridge.dev/samples/claims",
    serviceName = "ClaimService",
    portName = "ClaimSoap")
public class ClaimServer implements ClaimPortType {
    private static final Map<String, byte[]> CLAIMS = new ConcurrentHashMap<>();
    private static volatile String lastRequest = "";

    @Resource
    private WebServiceContext context;

    @Override
    public String sendClaim(String name, DataHandler claimForm) {
        @SuppressWarnings("unchecked")
        Map<String, List<String>> headers = (Map<String, List<String>>) context.getMessageContext().get(MessageContext.HTTP_REQUEST_HEADERS);
        List<String> type = headers == null ? null : headers.get("Content-type");
        lastRequest = type == null || type.isEmpty() ? "" : type.get(0);
        try (InputStream in = claimForm.getInputStream()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            byte[] bytes = out.toByteArray();
            StringBuilder hex = new StringBuilder();
            for (byte b : MessageDigest.getInstance("SHA-256").digest(bytes)) {
                hex.append(String.format("%02x", b));
            }
            String id = bytes.length + ":" + hex;
            CLAIMS.put(id, bytes);
            return id;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public DataHandler getClaimForm(String claimId) {
        byte[] bytes = CLAIMS.getOrDefault(claimId, new byte[0]);
        return new DataHandler(new Bytes(bytes, "application/pdf"));
    }

    /** The bytes of a claim form as a DataSource (javax.mail's ByteArrayDataSource is not on the RI's class path). */
    private static final class Bytes implements DataSource {
        private final byte[] bytes;
        private final String type;

        Bytes(byte[] bytes, String type) {
            this.bytes = bytes;
            this.type = type;
        }

        @Override
        public InputStream getInputStream() {
            return new java.io.ByteArrayInputStream(bytes);
        }

        @Override
        public OutputStream getOutputStream() throws IOException {
            throw new IOException("read-only");
        }

        @Override
        public String getContentType() {
            return type;
        }

        @Override
        public String getName() {
            return "claim-form";
        }
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 64);
        server.createContext("/health", exchange -> reply(exchange, "ok\n"));
        server.createContext("/last-request", exchange -> reply(exchange, lastRequest));
        Endpoint.create(SOAPBinding.SOAP11HTTP_BINDING, new ClaimServer()).publish(server.createContext("/claims"));
        server.start();
        System.out.println("listening " + port);
    }

    private static void reply(com.sun.net.httpserver.HttpExchange exchange, String text) throws IOException {
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(200, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }
}
