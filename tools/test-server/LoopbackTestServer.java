import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.temporal.internal.testservice.GRPCServerHelper;
import io.temporal.internal.testservice.TestServicesStarter;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * Temporal's time-skipping test server, listening on the loopback interface only.
 *
 * <p>The stock io.temporal.testserver.TestServer binds every interface; this one wires the same services
 * the same way but on 127.0.0.1. Port 0 lets the kernel choose, which avoids races between parallel
 * test runs; the chosen port is printed as "listening on 127.0.0.1:PORT" once the server accepts calls.
 *
 * <p>Usage: LoopbackTestServer PORT [--enable-time-skipping]
 */
public final class LoopbackTestServer {
  private LoopbackTestServer() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 1 || args.length > 2 || (args.length == 2 && !"--enable-time-skipping".equalsIgnoreCase(args[1]))) {
      System.err.println("usage: temporal-test-server PORT [--enable-time-skipping]  (PORT 0: any free port)");
      System.exit(2);
    }
    int port = Integer.parseInt(args[0]);
    // Like the stock server: time skipping stays locked until a client unlocks it, unless asked otherwise.
    boolean lockTimeSkipping = args.length < 2;
    TestServicesStarter services = new TestServicesStarter(lockTimeSkipping, 0);
    NettyServerBuilder builder =
        NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port), InsecureServerCredentials.create());
    GRPCServerHelper.registerServicesAndHealthChecks(services.getServices(), builder);
    Server server = builder.build().start();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.shutdownNow();
      services.close();
    }));
    System.out.println("listening on 127.0.0.1:" + server.getPort());
    System.out.flush();
    server.awaitTermination();
  }
}
