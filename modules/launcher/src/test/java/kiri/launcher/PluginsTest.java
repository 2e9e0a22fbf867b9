package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.classfile.ClassFile;
import java.lang.classfile.attribute.ModuleAttribute;
import java.lang.constant.ClassDesc;
import java.lang.constant.ModuleDesc;
import java.lang.reflect.AccessFlag;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarOutputStream;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code plugins/}: what loads, and the one-line errors for broken plugin sets (each names the jar). */
class PluginsTest {
    @TempDir
    Path dir;

    @Test
    void noFolderOrNoJarsMeansTheBootLayer() throws IOException {
        assertSame(ModuleLayer.boot(), Plugins.load(null).layer());
        Files.writeString(dir.resolve("README"), "not a jar");
        assertSame(ModuleLayer.boot(), Plugins.load(dir).layer());
    }

    @Test
    void explicitFolderMustExist() {
        var e = assertThrows(IllegalArgumentException.class, () -> Plugins.directory(dir.resolve("nope").toString()));
        assertEquals("--plugins " + dir.resolve("nope") + ": not a directory", e.getMessage());
        assertEquals(dir, Plugins.directory(dir.toString()));
    }

    @Test
    void modularJarsFormOneChildLayer() throws IOException {
        jar("a.jar", "kiri.test.a", List.of("kiri.storage.api"), "kiri.test.a");
        jar("b.jar", "kiri.test.b", List.of("kiri.test.a"), "kiri.test.b");
        Plugins.Loaded loaded = Plugins.load(dir);
        assertEquals(List.of(ModuleLayer.boot()), loaded.layer().parents());
        assertTrue(loaded.layer().findModule("kiri.test.b").isPresent());
        assertEquals(dir.resolve("b.jar"), loaded.modules().get("kiri.test.b"));
    }

    @Test
    void missingDependencyNamesTheJarThatNeedsIt() throws IOException {
        jar("fine.jar", "kiri.test.fine", List.of(), "kiri.test.fine");
        jar("needy.jar", "kiri.test.needy", List.of("kiri.test.absent"), "kiri.test.needy");
        String m = error();
        assertTrue(m.startsWith("plugin " + dir.resolve("needy.jar") + ": "), m);
        assertTrue(m.contains("kiri.test.absent"), m);
    }

    @Test
    void sameModuleInTwoJars() throws IOException {
        jar("one.jar", "kiri.test.twice", List.of(), "kiri.test.p1");
        jar("two.jar", "kiri.test.twice", List.of(), "kiri.test.p2");
        assertEquals("plugin " + dir.resolve("two.jar") + ": module kiri.test.twice is also in " + dir.resolve("one.jar"), error());
    }

    @Test
    void moduleAlreadyBuiltIn() throws IOException {
        jar("null.jar", "kiri.storage.nullstore", List.of(), "kiri.test.n");
        assertEquals("plugin " + dir.resolve("null.jar") + ": module kiri.storage.nullstore is already built into kiri; remove the jar",
                error());
    }

    @Test
    void plainJarIsNotAModule() throws IOException {
        jar("plain.jar", null, List.of(), "kiri.test.plain");
        assertEquals("plugin " + dir.resolve("plain.jar") + ": not a module (no module-info.class); plugins must be modular jars",
                error());
    }

    @Test
    void splitPackageBetweenPlugins() throws IOException {
        jar("left.jar", "kiri.test.left", List.of(), "kiri.test.split");
        jar("right.jar", "kiri.test.right", List.of(), "kiri.test.split");
        assertEquals("plugin " + dir.resolve("right.jar") + ": split package kiri.test.split: module kiri.test.right"
                + " and module kiri.test.left (left.jar) both contain it", error());
    }

    @Test
    void packageOfABuiltInModule() throws IOException {
        jar("shadow.jar", "kiri.test.shadow", List.of("kiri.storage.api"), "kiri.storage.api");
        String m = error();
        assertTrue(m.startsWith("plugin " + dir.resolve("shadow.jar") + ": "), m);
        assertTrue(m.contains("kiri.storage.api"), m);
    }

    @Test
    void corruptJar() throws IOException {
        Files.writeString(dir.resolve("junk.jar"), "not a zip");
        assertTrue(error().startsWith("plugin " + dir.resolve("junk.jar") + ": "));
    }

    private String error() {
        var e = assertThrows(IllegalArgumentException.class, () -> Plugins.load(dir));
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        return e.getMessage();
    }

    /** A jar with one empty class in {@code pkg} and, unless {@code module} is null, a module-info requiring {@code requires}. */
    private void jar(String name, String module, List<String> requires, String pkg) throws IOException {
        try (OutputStream out = Files.newOutputStream(dir.resolve(name)); JarOutputStream jar = new JarOutputStream(out)) {
            if (module != null) {
                jar.putNextEntry(new ZipEntry("module-info.class"));
                jar.write(ClassFile.of().buildModule(ModuleAttribute.of(ModuleDesc.of(module), m -> {
                    m.requires(ModuleDesc.of("java.base"), AccessFlag.MANDATED.mask(), null);
                    for (String r : requires) m.requires(ModuleDesc.of(r), 0, null);
                })));
            }
            jar.putNextEntry(new ZipEntry(pkg.replace('.', '/') + "/Empty.class"));
            jar.write(ClassFile.of().build(ClassDesc.of(pkg, "Empty"), c -> c.withFlags(AccessFlag.PUBLIC)));
        }
    }
}
