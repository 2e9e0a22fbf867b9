package kiri.launcher;

import java.io.IOException;
import java.lang.module.Configuration;
import java.lang.module.FindException;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.lang.module.ResolutionException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The {@code plugins/} directory: every jar in it becomes a module of one child {@link ModuleLayer} of
 * the boot layer, resolved with service binding, so {@link java.util.ServiceLoader} finds the
 * storage engines (and later other SPIs) they provide next to the built-in ones.
 *
 * <p>With no directory, or one without jars, nothing is loaded and the boot layer is used: a broker
 * without plugins pays nothing for this. A broken plugin set (a jar that is not a module, a missing
 * dependency, a split package, a module that is already in the image or in two jars) is an
 * {@link IllegalArgumentException} whose one-line message names the jar.
 */
final class Plugins {
    private Plugins() {}

    /** The loaded layer and the plugin modules in it, by module name, with the jar each came from. */
    record Loaded(ModuleLayer layer, Map<String, Path> modules) {
        static final Loaded NONE = new Loaded(ModuleLayer.boot(), Map.of());

        /**
         * The plugin module {@code type} comes from, with its jar, e.g. {@code kiri.storage.echo (echo.jar)};
         * null for built-ins. A class of a dynamic module (a proxy) counts when its loader is a plugin's.
         */
        String describe(Class<?> type) {
            String name = null;
            if (type.getModule().getLayer() == layer && modules.containsKey(type.getModule().getName())) {
                name = type.getModule().getName();
            } else {
                for (String m : modules.keySet()) {
                    if (layer.findLoader(m) == type.getClassLoader()) {
                        name = name == null ? m : name + ", " + m;
                    }
                }
            }
            return name == null ? null : name + (modules.containsKey(name) ? " (" + modules.get(name).getFileName() + ")" : "");
        }
    }

    /**
     * The directory plugins come from: {@code explicit} if given (it must exist), else
     * {@code $java.home/plugins} when running from the runtime image and that folder exists, else none.
     */
    static Path directory(String explicit) {
        if (explicit != null && !explicit.isBlank()) {
            Path dir = Path.of(explicit);
            if (!Files.isDirectory(dir)) {
                throw new IllegalArgumentException("--plugins " + explicit + ": not a directory");
            }
            return dir;
        }
        Path inImage = Path.of(System.getProperty("java.home"), "plugins");
        return Files.isDirectory(inImage) ? inImage : null;
    }

    /** Resolves every jar in {@code dir} (null: none) into a child layer of the boot layer. */
    static Loaded load(Path dir) {
        if (dir == null) return Loaded.NONE;
        List<Path> jars = jars(dir);
        if (jars.isEmpty()) return Loaded.NONE;

        // one finder per jar first, so a bad jar is reported by its own name
        Map<String, Path> modules = new LinkedHashMap<>();
        Map<String, String> packages = new LinkedHashMap<>(); // package -> module; all plugins share one loader
        for (Path jar : jars) {
            Set<ModuleReference> found;
            try {
                found = ModuleFinder.of(jar).findAll();
            } catch (FindException e) {
                throw broken(jar, e);
            }
            for (ModuleReference ref : found) {
                ModuleDescriptor d = ref.descriptor();
                if (d.isAutomatic()) {
                    throw new IllegalArgumentException("plugin " + jar + ": not a module (no module-info.class); "
                            + "plugins must be modular jars");
                }
                Path other = modules.putIfAbsent(d.name(), jar);
                if (other != null) {
                    throw new IllegalArgumentException("plugin " + jar + ": module " + d.name() + " is also in " + other);
                }
                if (ModuleLayer.boot().findModule(d.name()).isPresent()) {
                    throw new IllegalArgumentException("plugin " + jar + ": module " + d.name()
                            + " is already built into kiri; remove the jar");
                }
                for (String pkg : d.packages()) {
                    String owner = packages.putIfAbsent(pkg, d.name());
                    if (owner != null) {
                        throw new IllegalArgumentException("plugin " + jar + ": split package " + pkg + ": module " + d.name()
                                + " and module " + owner + " (" + modules.get(owner).getFileName() + ") both contain it");
                    }
                }
            }
        }
        ModuleLayer boot = ModuleLayer.boot();
        try {
            Configuration cf = boot.configuration().resolveAndBind(
                    ModuleFinder.of(jars.toArray(Path[]::new)), ModuleFinder.of(), modules.keySet());
            ModuleLayer layer = boot.defineModulesWithOneLoader(cf, ClassLoader.getSystemClassLoader());
            return new Loaded(layer, Map.copyOf(modules));
        } catch (FindException | ResolutionException | LayerInstantiationException e) {
            throw broken(culprit(e.getMessage(), modules, dir), e);
        } catch (SecurityException e) {
            throw broken(dir, e);
        }
    }

    private static List<Path> jars(Path dir) {
        // a plain loop, not a stream: every broker start runs this, and streams cost a few ms of class loading
        List<Path> jars = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.jar")) {
            for (Path p : files) {
                if (Files.isRegularFile(p)) jars.add(p);
            }
            jars.sort(null);
            return jars;
        } catch (IOException e) {
            throw new IllegalArgumentException("plugins " + dir + ": cannot list: " + e.getMessage(), e);
        }
    }

    /** The jar of the first plugin module the resolver's message names (it names the module it was resolving), else the folder. */
    private static Path culprit(String message, Map<String, Path> modules, Path dir) {
        if (message == null) return dir;
        Map<Integer, Path> byPosition = new TreeMap<>();
        for (var e : modules.entrySet()) {
            var m = Pattern.compile("(?<![\\w.])" + Pattern.quote(e.getKey()) + "(?![\\w.])").matcher(message);
            if (m.find()) byPosition.putIfAbsent(m.start(), e.getValue());
        }
        // "Module x not found, required by y": y (the plugin) is the one to fix, not x
        var required = Pattern.compile("required by (\\S+)").matcher(message);
        if (required.find() && modules.containsKey(required.group(1))) return modules.get(required.group(1));
        return byPosition.isEmpty() ? dir : byPosition.values().iterator().next();
    }

    private static IllegalArgumentException broken(Path where, Exception e) {
        String why = e.getMessage() != null ? e.getMessage() : e.toString();
        return new IllegalArgumentException("plugin " + where + ": " + why.replace('\n', ' '), e);
    }
}
