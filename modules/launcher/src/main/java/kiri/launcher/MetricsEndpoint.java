package kiri.launcher;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import kiri.metrics.MetricWriter;

/**
 * {@code --metrics-listener http://HOST:PORT}: Prometheus text at {@code /metrics}, and {@code /health/live}
 * (200 while the process serves HTTP) and {@code /health/ready} (200 once the broker listens and its storage
 * answers a ping, else 503 with the reason).
 *
 * <p>A minimal HTTP/1.1 server on one daemon thread: one request per connection ({@code Connection: close}),
 * GET and HEAD only, requests served one after another, never on the broker's event loops. Not the JDK's
 * {@code com.sun.net.httpserver}: measured, its first request costs ~3.6 MB of RSS (it formats a Date header, which
 * loads java.time's formatters and the CLDR locale data), more than this endpoint's whole budget
 * (bench/RESULTS.md). Lifetime: started after the broker, closed before it.
 */
final class MetricsEndpoint implements AutoCloseable {
    private static final long READY_TIMEOUT_MS = 2_000;
    /** A client that sends nothing holds the (single) thread at most this long. */
    private static final int READ_TIMEOUT_MS = 5_000;
    private static final int MAX_REQUEST_HEAD = 8 * 1024;
    private static final System.Logger LOG = System.getLogger(MetricsEndpoint.class.getName());

    private final ServerSocket server;
    private final Broker broker;
    private volatile boolean closed;

    private MetricsEndpoint(ServerSocket server, Broker broker) {
        this.server = server;
        this.broker = broker;
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
        ServerSocket server = new ServerSocket();
        try {
            server.bind(new InetSocketAddress(listen.host(), listen.port()), 16);
        } catch (BindException e) {
            server.close();
            throw new IOException("metrics listener " + url(listen) + ": " + e.getMessage(), e);
        }
        MetricsEndpoint endpoint = new MetricsEndpoint(server, broker);
        Thread thread = new Thread(endpoint::serve, "kiri-metrics");
        thread.setDaemon(true);
        thread.start();
        return endpoint;
    }

    private void serve() {
        while (!closed) {
            try (Socket socket = server.accept()) {
                socket.setSoTimeout(READ_TIMEOUT_MS);
                answer(socket);
            } catch (IOException | RuntimeException e) {
                if (!closed) LOG.log(System.Logger.Level.DEBUG, "metrics endpoint: request failed", e);
            }
        }
    }

    private static final String TEXT = "text/plain; charset=utf-8";

    /** A response: status line, content type, body. */
    private record Reply(int status, String reason, String type, String body) {
        Reply(int status, String reason, String body) {
            this(status, reason, TEXT, body);
        }
    }

    private void answer(Socket socket) throws IOException {
        String head = readHead(socket.getInputStream());
        String[] requestLine = head == null ? new String[0] : head.substring(0, head.indexOf('\r')).split(" ");
        Reply reply;
        boolean bodyWanted = true;
        if (requestLine.length != 3 || !requestLine[2].startsWith("HTTP/1.")) {
            reply = new Reply(400, "Bad Request", "bad request\n");
        } else if (!requestLine[0].equals("GET") && !requestLine[0].equals("HEAD")) {
            reply = new Reply(405, "Method Not Allowed", "only GET and HEAD\n");
        } else {
            bodyWanted = requestLine[0].equals("GET");
            String path = requestLine[1];
            int query = path.indexOf('?');
            reply = route(query < 0 ? path : path.substring(0, query));
        }
        byte[] body = reply.body().getBytes(StandardCharsets.UTF_8);
        String headers = "HTTP/1.1 " + reply.status() + " " + reply.reason() + "\r\nContent-Type: " + reply.type()
                + "\r\nContent-Length: " + body.length + (reply.status() == 405 ? "\r\nAllow: GET, HEAD" : "")
                + "\r\nConnection: close\r\n\r\n";
        OutputStream out = socket.getOutputStream();
        out.write(headers.getBytes(StandardCharsets.US_ASCII));
        if (bodyWanted) out.write(body);
        out.flush();
    }

    private Reply route(String path) {
        return switch (path) {
            case "/metrics" -> {
                StringBuilder text = new StringBuilder(16 * 1024);
                BrokerMetrics.writeTo(new MetricWriter(text), broker);
                yield new Reply(200, "OK", MetricWriter.CONTENT_TYPE, text.toString());
            }
            case "/health/live" -> new Reply(200, "OK", "live\n");
            case "/health/ready" -> {
                String problem = notReady(broker);
                yield problem == null ? new Reply(200, "OK", "ready\n")
                        : new Reply(503, "Service Unavailable", "not ready: " + problem + "\n");
            }
            default -> new Reply(404, "Not Found", "not found; try /metrics, /health/live or /health/ready\n");
        };
    }

    /** The request line and headers, up to the blank line; null if the client sent too much or closed early. */
    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream(256);
        int matched = 0;
        while (head.size() < MAX_REQUEST_HEAD) {
            int b = in.read();
            if (b < 0) return null;
            head.write(b);
            matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
            if (matched == 4) return head.toString(StandardCharsets.ISO_8859_1);
        }
        return null;
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

    /** The bound address (the real port when 0 was asked for). */
    InetSocketAddress address() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    static String url(ListenerUrl listen) {
        return listen.withScheme("http");
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close(); // ends the accept; a request being answered finishes on its own
        } catch (IOException e) {
            // closing: nothing to do
        }
    }
}
