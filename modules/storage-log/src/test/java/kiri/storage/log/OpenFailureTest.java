package kiri.storage.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Out of descriptors (a child JVM under {@code prlimit --nofile}), partitions that cannot be opened fail with
 * KAFKA_STORAGE_ERROR and leave nothing: no descriptor (retrying does not grow the count), no directory; once
 * descriptors are free again (the topic deleted), a new topic works.
 */
class OpenFailureTest {
    @TempDir
    Path dir;

    @Test
    void partitionsThatCannotBeOpenedLeakNoDescriptorAndNoDirectory() throws Exception {
        Path prlimit = Path.of("/usr/bin/prlimit");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(prlimit), "needs prlimit (util-linux)");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path stderr = dir.resolve("child.err");
        Process child = new ProcessBuilder(prlimit.toString(), "--nofile=400:400", java, "-cp", CrashTest.childClassPath(),
                "-XX:+UseSerialGC", FdLimitChild.class.getName(), dir.resolve("kiri-data").toString(), "800")
                .redirectError(stderr.toFile())
                .start();
        Map<String, String> facts = new HashMap<>();
        StringBuilder out = new StringBuilder();
        List<Long> fds = new ArrayList<>();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
                Writer go = new OutputStreamWriter(child.getOutputStream(), StandardCharsets.UTF_8)) {
            String line;
            while ((line = lines.readLine()) != null) {
                out.append(line).append('\n');
                if (line.equals("PAUSE")) {
                    fds.add(TopicMetadataTest.count(Path.of("/proc", String.valueOf(child.pid()), "fd")));
                    facts.put("DIRS", String.valueOf(TopicMetadataTest.dirs(dir.resolve("kiri-data").resolve("data"))));
                    go.write('\n');
                    go.flush();
                }
                int sp = line.indexOf(' ');
                if (sp > 0) facts.put(line.substring(0, sp), line.substring(sp + 1));
                else facts.put(line, "");
            }
        }
        assertTrue(child.waitFor(120, TimeUnit.SECONDS));
        String context = out + Files.readString(stderr);
        assertEquals(0, child.exitValue(), context);
        assertTrue(facts.containsKey("DONE"), context);
        int opened = Integer.parseInt(facts.get("OPENED"));
        assertTrue(opened > 10 && Integer.parseInt(facts.get("FAILED")) > 1, "the limit was reached: " + context);
        assertTrue(facts.get("ERROR").contains("Too many open files"), context);
        assertEquals(2, fds.size(), context);
        assertEquals(fds.get(0), fds.get(1), "20 more failed opens leaked no descriptor: " + context);
        assertEquals(opened, Integer.parseInt(facts.get("DIRS")), "a directory per opened partition, none for failed ones: " + context);
        assertEquals("1", facts.get("AFTER"), context);
    }
}
