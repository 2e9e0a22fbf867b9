package kiri.launcher;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import kiri.metrics.MetricWriter;

/**
 * {@code --metrics-listener http://HOST:PORT}: Prometheus text at {@code /metrics}, and {@code /health/live}
 * (200 while the process serves HTTP) and {@code /health/ready} (200 once the broker listens and its storage
 * answers a ping, else 503 with the reason). On the JDK's {@code com.sun.net.httpserver} with one daemon thread:
 * scrapes are serial and never touch the broker's event loops. Lifetime: started after the broker, closed before it.
 */
final class MetricsEndpoint implements AutoCloseable {
    private static final long READY_TIMEOUT_MS = 2_000;
    private static final System.Logger LOG = System.getLogger(MetricsEndpoint.class.getName());

    private final HttpServer server;
    private final ExecutorService thread;

    private MetricsEndpoint(HttpServer server, ExecutorService thread) {
        this.server = server;
        this.thread = thread;
    }

    /** Parses {@code http://HOST:PORT}, with a clear message for anything else. */
    static ListenerUrl parse(String url) {
        try {
            return ListenerUrl.parse(url, "http");
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--metrics-listener: " + e.getMessage());
        }
    }

    /** Serves {@code broker}'s metrics on {@code listen}; a port in use is an IOException naming the address. */
    static MetricsEndpoint start(ListenerUrl listen, Broker broker) throws IOException {
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(listen.host(), listen.port()), 16);
        } catch (BindException e) {
            throw new IOException("metrics listener " + url(listen) + ": " + e.getMessage(), e);
        }
        ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "kiri-metrics");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(thread);
        server.createContext("/metrics", exchange -> answer(exchange, 200, MetricWriter.CONTENT_TYPE, () -> {
            StringBuilder out = new StringBuilder(16 * 1024);
            BrokerMetrics.writeTo(new MetricWriter(out), broker);
            return out.toString();
        }));
        server.createContext("/health/live", exchange -> answer(exchange, 200, "text/plain", () -> "live\n"));
        server.createContext("/health/ready", exchange -> {
            String problem = notReady(broker);
            answer(exchange, problem == null ? 200 : 503, "text/plain",
                    () -> problem == null ? "ready\n" : "not ready: " + problem + "\n");
        });
        server.start();
        return new MetricsEndpoint(server, thread);
    }

    /** Null when ready, else why not. */
    private static String notReady(Broker broker) {
        try {
            broker.storage().ping().toCompletableFuture().get(READY_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        } catch (Exception e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            return "storage does not answer (" + (cause.getMessage() != null ? cause.getMessage() : cause) + ")";
        }
    }

    /** Answers GET and HEAD with {@code body}, anything else with 405; paths below a context (/metrics/x) get 404. */
    private static void answer(HttpExchange exchange, int status, String type, Supplier<String> body) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            if (!exchange.getRequestURI().getPath().equals(exchange.getHttpContext().getPath())) {
                exchange.sendResponseHeaders(404, -1);
                return;
            }
            if (!method.equals("GET") && !method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            byte[] bytes;
            try {
                bytes = body.get().getBytes(StandardCharsets.UTF_8);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "metrics endpoint: " + exchange.getRequestURI() + " failed", e);
                exchange.sendResponseHeaders(500, -1);
                return;
            }
            exchange.getResponseHeaders().set("Content-Type", type);
            if (method.equals("HEAD")) {
                exchange.sendResponseHeaders(status, -1);
                return;
            }
            exchange.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    /** The bound address (the real port when 0 was asked for). */
    InetSocketAddress address() {
        return server.getAddress();
    }

    static String url(ListenerUrl listen) {
        return "http://" + (listen.host().contains(":") ? "[" + listen.host() + "]" : listen.host()) + ":" + listen.port();
    }

    @Override
    public void close() {
        server.stop(0);
        thread.shutdownNow();
    }
}
