package kiri.codegen;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Entry point, run at build time: {@code Generator SPEC_DIR OUT_DIR}. Reads every
 * {@code *.json} message spec in SPEC_DIR, validates it, and writes one Java class per spec plus
 * {@code ApiKey} into OUT_DIR/kiri/protocol/message. A spec that breaks the rules stops the build
 * with one line naming the spec and field.
 */
public final class Generator {
    private Generator() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: Generator SPEC_DIR OUT_DIR");
        }
        Path specDir = Path.of(args[0]);
        Path out = Path.of(args[1], "kiri", "protocol", "message");
        List<Path> files;
        try (Stream<Path> s = Files.list(specDir)) {
            files = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
        if (files.isEmpty()) {
            throw new IllegalStateException("no message specs in " + specDir);
        }
        List<Spec> specs = new ArrayList<>();
        for (Path f : files) {
            specs.add(Spec.load(f));
        }
        if (Files.isDirectory(out)) {
            try (Stream<Path> old = Files.list(out)) {
                for (Path p : old.toList()) {
                    Files.delete(p);
                }
            }
        }
        Files.createDirectories(out);
        for (Spec s : specs) {
            Files.writeString(out.resolve(s.name + ".java"), new MessageGenerator(s).generate());
        }
        Files.writeString(out.resolve("ApiKey.java"), ApiKeyGenerator.generate(specs));
        System.out.println("kiri codegen: " + specs.size() + " specs -> " + out);
    }
}
