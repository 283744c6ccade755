import java.lang.reflect.Field;
import java.util.Locale;
import java.util.Set;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * DynamoDB Local bound to one address (127.0.0.1) instead of every interface.
 *
 * DynamoDB Local 3.3.0 has no bind-address option: its server is `new org.eclipse.jetty.server.Server(port)`,
 * whose connector listens on all interfaces, and it accepts any credentials. So this launcher builds the
 * server from the same command-line arguments as the jar's own main class, sets the host of its Jetty
 * connector before starting it, and starts it. Run in Java's source-file mode (a JDK, not only a JRE):
 * `java -cp DynamoDBLocal.jar dynamodb-loopback.java -port 8000 -inMemory`. The bind address comes from
 * the system property `dynamodb.bindAddress` (default 127.0.0.1). It also answers only loopback Host
 * names with its port (a web page could otherwise reach it through DNS rebinding, since it checks no
 * credentials), and unlike the jar's main class it never configures telemetry: nothing is sent anywhere.
 */
public class DynamoDbLoopback {
  public static void main(String[] args) throws Exception {
    String bindAddress = System.getProperty("dynamodb.bindAddress", "127.0.0.1");
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    // The Jetty server is a private field: the one place this launcher depends on DynamoDB Local's internals.
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server jetty = (Server) field.get(proxy);
    Connector[] connectors = jetty.getConnectors();
    if (connectors.length == 0) throw new IllegalStateException("DynamoDB Local has no connector to bind");
    int port = ((ServerConnector) connectors[0]).getPort();
    for (Connector connector : connectors) ((ServerConnector) connector).setHost(bindAddress);
    jetty.setHandler(new LoopbackHostsOnly(jetty.getHandler(), port));
    proxy.start();
  }
}

/** Refuses (403) a request whose Host is not 127.0.0.1, localhost or [::1] with the server's port. */
class LoopbackHostsOnly extends Handler.Wrapper {
  private final Set<String> allowed;

  LoopbackHostsOnly(Handler handler, int port) {
    super(handler);
    allowed = Set.of("127.0.0.1:" + port, "localhost:" + port, "[::1]:" + port);
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) throws Exception {
    String host = request.getHeaders().get(HttpHeader.HOST);
    if (host == null || !allowed.contains(host.toLowerCase(Locale.ROOT))) {
      Response.writeError(request, response, callback, 403, "this Host is not served here");
      return true;
    }
    return super.handle(request, response, callback);
  }
}
