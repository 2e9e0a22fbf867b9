package kiri.launcher;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The training run of the image's AOT cache (build time only: {@code KIRI_AOT_TRAIN=FILE bin/kiri}).
 * It starts a broker the way {@code kiri broker} does with each built-in storage engine in turn
 * ({@code file:} in a temporary folder, {@code memory://}, {@code null://}), sends each one ApiVersions
 * request and stops it, so the cache holds what every engine loads: a broker whose engine was not in
 * the training run idles 6-8 MB higher (classes and methods outside the cache).
 */
public final class AotTraining {
    private AotTraining() {}

    public static void main(String[] args) throws Exception {
        Path data = Files.createTempDirectory("kiri-aot-training");
        PrintWriter out = new PrintWriter(System.out, true);
        try {
            for (String storage : List.of("file:" + data, "memory://", "null://")) {
                List<String> flags = new ArrayList<>(List.of("--listener", "tcp://127.0.0.1:0",
                        "--advertised-listener", "tcp://127.0.0.1:0", "--storage", storage));
                BrokerCommand.Values options = BrokerCommand.parse(flags, System::getenv);
                Broker broker = BrokerCommand.start(options, out);
                try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), broker.localAddress().getPort())) {
                    OutputStream o = socket.getOutputStream();
                    // ApiVersions v0, correlation id 1, null client id
                    o.write(new byte[] {0, 0, 0, 10, 0, 18, 0, 0, 0, 0, 0, 1, -1, -1});
                    o.flush();
                    DataInputStream in = new DataInputStream(socket.getInputStream());
                    in.readFully(new byte[in.readInt()]);
                } finally {
                    broker.close();
                }
            }
        } finally {
            try (var files = Files.walk(data)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
