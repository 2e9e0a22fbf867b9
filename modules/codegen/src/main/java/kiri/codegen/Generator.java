package kiri.codegen;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Entry point: {@code Generator SPEC_DIR OUT_DIR}. Placeholder until the generator lands. */
public final class Generator {
    public static void main(String[] args) throws IOException {
        Path out = Path.of(args[1], "kiri", "protocol", "message");
        Files.createDirectories(out);
        Files.writeString(out.resolve("Placeholder.java"),
                "package kiri.protocol.message;\n/** Placeholder. */\npublic final class Placeholder { private Placeholder() { } }\n");
    }
}
