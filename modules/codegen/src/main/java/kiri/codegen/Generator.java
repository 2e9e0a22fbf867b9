package kiri.codegen;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Entry point, run at build time: {@code Generator SPEC_DIR OUT_DIR [PACKAGE]}. Reads every
 * {@code *.json} message spec in SPEC_DIR, validates it, and writes one Java class per spec into
 * PACKAGE (default {@code kiri.protocol.message}) under OUT_DIR, plus {@code ApiKey} when the specs
 * include requests. Kafka's specs go to the default package; a module's own {@code data} specs (Kiri's
 * persisted records, in {@code src/main/kiri-specs}) go to a package of that module. A spec that breaks
 * the rules stops the build with one line naming the spec and field.
 */
public final class Generator {
    static final String DEFAULT_PACKAGE = "kiri.protocol.message";

    private Generator() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2 && args.length != 3) {
            throw new IllegalArgumentException("usage: Generator SPEC_DIR OUT_DIR [PACKAGE]");
        }
        Path specDir = Path.of(args[0]);
        String pkg = args.length == 3 ? args[2] : DEFAULT_PACKAGE;
        Path out = Path.of(args[1], pkg.split("\\."));
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
            Files.writeString(out.resolve(s.name + ".java"), new MessageGenerator(s, pkg).generate());
        }
        if (specs.stream().anyMatch(s -> s.kind == Spec.Kind.REQUEST)) {
            Files.writeString(out.resolve("ApiKey.java"), ApiKeyGenerator.generate(specs));
        }
        System.out.println("kiri codegen: " + specs.size() + " specs -> " + out);
    }
}
