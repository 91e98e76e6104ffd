import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import org.apache.axis.configuration.XMLStringProvider;
import org.apache.axis.transport.http.SimpleAxisServer;

/**
 * Axis 1.4's SimpleAxisServer on 127.0.0.1:PORT with the deployment in WSDD_FILE.
 * Usage: AxisPeer PORT WSDD_FILE. Stopped by a signal.
 */
public class AxisPeer {
    // SimpleAxisServer(n) dies when connection n+1 arrives: far above what the tests open at once.
    private static final int POOL = 64;

    public static void main(String[] args) throws Exception {
        String wsdd = new String(Files.readAllBytes(Paths.get(args[1])), StandardCharsets.UTF_8);
        SimpleAxisServer server = new SimpleAxisServer(POOL);
        server.setMyConfig(new XMLStringProvider(wsdd));
        server.setServerSocket(new ServerSocket(Integer.parseInt(args[0]), POOL, InetAddress.getByName("127.0.0.1")));
        server.start(false);
    }
}
