// wsdl/files.wsdl served by the JAX-WS RI (Metro 2.3) with MTOM on, WSDL-first, for soapbridge's
// MTOM interop tests (tests/interop/test_mtom_jaxws.py).
//
// Built by the jaxws_files_server fixture (tests/interop/conftest.py):
//   wsimport -extension -keep -Xnocompile -s gen -p dev.soapbridge.files wsdl/files.wsdl
//   javac -cp /usr/share/java/jaxws-rt.jar -d classes gen/dev/soapbridge/files/*.java FileServer.java
// then run as `java -cp classes:/usr/share/java/jaxws-rt.jar FileServer PORT`:
//   POST /soap11   SOAP 1.1 + MTOM     POST /soap12   SOAP 1.2 + MTOM     GET /health   "ok"
//   GET /last-request   the Content-Type of the last Upload request (did it come as MTOM?)
// Upload keeps the file in memory and answers its size and SHA-256, computed here: the oracle the
// tests compare with. Download returns it, as an MTOM attachment (MTOMFeature threshold 0: always).
import com.sun.net.httpserver.HttpServer;
import dev.soapbridge.files.FilePortType;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.annotation.Resource;
import javax.jws.WebService;
import javax.xml.ws.Endpoint;
import javax.xml.ws.Holder;
import javax.xml.ws.WebServiceContext;
import javax.xml.ws.handler.MessageContext;
import javax.xml.ws.soap.MTOMFeature;
import javax.xml.ws.soap.SOAPBinding;

@WebService(
    endpointInterface = "dev.soapbridge.files.FilePortType",
    targetNamespace = "http://soapbridge.dev/samples/files",
    serviceName = "FileService",
    portName = "FileSoap")
public class FileServer implements FilePortType {
    private static final Map<String, byte[]> FILES = new ConcurrentHashMap<>();
    private static volatile String lastRequest = "";

    @Resource
    private WebServiceContext context;

    @Override
    public void upload(String name, byte[] content, Holder<Long> size, Holder<String> sha256) {
        @SuppressWarnings("unchecked")
        Map<String, List<String>> headers = (Map<String, List<String>>) context.getMessageContext().get(MessageContext.HTTP_REQUEST_HEADERS);
        List<String> type = headers == null ? null : headers.get("Content-type");
        lastRequest = type == null || type.isEmpty() ? "" : type.get(0);
        FILES.put(name, content);
        size.value = (long) content.length;
        try {
            StringBuilder hex = new StringBuilder();
            for (byte b : MessageDigest.getInstance("SHA-256").digest(content)) {
                hex.append(String.format("%02x", b));
            }
            sha256.value = hex.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public byte[] download(String name) {
        byte[] content = FILES.get(name);
        return content == null ? new byte[0] : content;
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 64);
        server.createContext("/health", exchange -> reply(exchange, "ok\n"));
        server.createContext("/last-request", exchange -> reply(exchange, lastRequest));
        Endpoint.create(SOAPBinding.SOAP11HTTP_BINDING, new FileServer(), new MTOMFeature(true, 0)).publish(server.createContext("/soap11"));
        Endpoint.create(SOAPBinding.SOAP12HTTP_BINDING, new FileServer(), new MTOMFeature(true, 0)).publish(server.createContext("/soap12"));
        server.start();
        System.out.println("listening " + port);
    }

    private static void reply(com.sun.net.httpserver.HttpExchange exchange, String text) throws java.io.IOException {
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain");
        exchange.sendResponseHeaders(200, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }
}
