package kiri.image;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.tools.ToolProvider;
import kiri.storage.api.StorageProvider;

/** Builds plugin jars from Java sources at test time, outside the reactor, against the storage-api module. */
final class PluginJars {
    private PluginJars() {}

    /** Where kiri.storage.api is on this test's class path (the reactor's jar or classes folder). */
    static Path storageApi() {
        return locationOf(StorageProvider.class);
    }

    /** Where the jar or classes folder holding {@code type} is. */
    private static Path locationOf(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Compiles {@code sources} (path relative to the source root -> text) against kiri.storage.api (and
     * the kiri.protocol it requires) and {@code modulePath}, and jars them as {@code work/jar}.
     */
    static Path build(Path work, String jar, Map<String, String> sources, Path... modulePath) throws IOException {
        Path src = Files.createTempDirectory(work, "src");
        Path classes = Files.createTempDirectory(work, "classes");
        // kiri.storage.api requires kiri.protocol (transitively): both go on the plugin's module path
        StringBuilder path = new StringBuilder(storageApi().toString()).append(java.io.File.pathSeparator)
                .append(locationOf(kiri.protocol.Records.class));
        for (Path p : modulePath) path.append(java.io.File.pathSeparator).append(p);
        List<String> args = new ArrayList<>(List.of("--release", "25", "--module-path", path.toString(),
                "-d", classes.toString()));
        for (var e : sources.entrySet()) {
            Path file = src.resolve(e.getKey());
            Files.createDirectories(file.getParent());
            Files.writeString(file, e.getValue());
            args.add(file.toString());
        }
        StringWriter diagnostics = new StringWriter();
        var javac = ToolProvider.getSystemJavaCompiler();
        var task = javac.getTask(diagnostics, null, null, args.subList(0, 6), null,
                javac.getStandardFileManager(null, null, StandardCharsets.UTF_8)
                        .getJavaFileObjectsFromStrings(args.subList(6, args.size())));
        if (!task.call()) {
            throw new IllegalStateException("plugin " + jar + " does not compile:\n" + diagnostics);
        }
        Path out = work.resolve(jar);
        var jarTool = java.util.spi.ToolProvider.findFirst("jar").orElseThrow();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = jarTool.run(new PrintStream(new ByteArrayOutputStream()), new PrintStream(err),
                "--create", "--file", out.toString(), "-C", classes.toString(), ".");
        if (rc != 0) {
            throw new IllegalStateException("jar " + jar + ": " + err);
        }
        return out;
    }

    /**
     * An {@code echo://} storage engine: the built-in null engine behind a proxy whose
     * {@code describe()} names the plugin, so the broker's startup line shows where it came from.
     */
    static Map<String, String> echoEngine() {
        return Map.of(
                "module-info.java", """
                        module kiri.storage.echo {
                            requires kiri.storage.api;
                            provides kiri.storage.api.StorageProvider with kiri.storage.echo.EchoStorageProvider;
                        }
                        """,
                "kiri/storage/echo/EchoStorageProvider.java", """
                        package kiri.storage.echo;

                        import java.lang.reflect.InvocationTargetException;
                        import java.lang.reflect.Proxy;
                        import kiri.storage.api.Storage;
                        import kiri.storage.api.StorageContext;
                        import kiri.storage.api.StorageProvider;
                        import kiri.storage.api.StorageUrl;
                        import kiri.storage.api.Storages;

                        public final class EchoStorageProvider implements StorageProvider {
                            @Override
                            public String scheme() {
                                return "echo";
                            }

                            @Override
                            public Storage open(StorageUrl url, StorageContext context) {
                                Storage inner = Storages.open("null://", context, ModuleLayer.boot());
                                return (Storage) Proxy.newProxyInstance(EchoStorageProvider.class.getClassLoader(),
                                        new Class<?>[] {Storage.class}, (proxy, method, args) -> {
                                            if (method.getName().equals("describe") && method.getParameterCount() == 0) {
                                                return "echo:// (test plugin over " + inner.describe() + ")";
                                            }
                                            try {
                                                return method.invoke(inner, args);
                                            } catch (InvocationTargetException e) {
                                                throw e.getCause();
                                            }
                                        });
                            }
                        }
                        """);
    }
}
