package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import kiri.launcher.bench.CodecBench;
import kiri.launcher.bench.CodecCorpus;
import kiri.protocol.message.ApiKey;
import org.junit.jupiter.api.Test;

class BenchCodecTest {
    private static String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new String[] {Integer.toString(exit), out.toString(), err.toString()};
    }

    @Test
    void corpusCoversEveryBrokerApiInOldFlexibleAndNewestVersionsAndIsDeterministic() {
        List<CodecCorpus.Frame> a = CodecCorpus.build();
        List<CodecCorpus.Frame> b = CodecCorpus.build();
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).name(), b.get(i).name());
            assertEquals(-1, a.get(i).bytes().mismatch(b.get(i).bytes()), a.get(i).name());
        }
        Set<ApiKey> apis = a.stream().map(CodecCorpus.Frame::api).collect(Collectors.toSet());
        for (ApiKey api : ApiKey.values()) {
            if (api.highestVersion >= 0 && api.listeners.contains("broker")) {
                assertTrue(apis.contains(api), api.title);
                assertTrue(a.stream().anyMatch(f -> f.api() == api && f.version() == api.lowestVersion && f.request()));
                assertTrue(a.stream().anyMatch(f -> f.api() == api && f.version() == api.highestVersion && !f.request()));
            }
        }
        // realistic produce frames: 4 partitions x ~16 KiB
        CodecCorpus.Frame produce = a.stream().filter(f -> f.name().startsWith("Produce v9 request, ")).findFirst().orElseThrow();
        assertTrue(produce.size() > 4 * 15 * 1024 && produce.size() <= 4 * 16 * 1024 + 200, "" + produce.size());
        CodecBench bench = new CodecBench(a);
        for (CodecCorpus.Frame f : a) {
            assertEquals(f.size(), bench.roundTrip(f), f.name());
        }
    }

    @Test
    void aFrameThatDoesNotReEncodeToItsBytesIsAnError() {
        CodecCorpus.Frame metadata = CodecCorpus.build().stream()
                .filter(f -> f.api() == ApiKey.METADATA && f.version() == 8 && f.request()).findFirst().orElseThrow();
        MemorySegment copy = Arena.ofAuto().allocate(metadata.size());
        copy.copyFrom(metadata.bytes());
        copy.set(ValueLayout.JAVA_BYTE, copy.byteSize() - 1, (byte) 2); // a boolean "true" that isn't 1
        CodecCorpus.Frame bad = new CodecCorpus.Frame("bad", ApiKey.METADATA, (short) 8, true, copy);
        CodecBench bench = new CodecBench(List.of(bad));
        CodecBench.Mismatch e = assertThrows(CodecBench.Mismatch.class, () -> bench.roundTrip(bad));
        assertTrue(e.getMessage().contains("differ at offset " + (copy.byteSize() - 1)), e.getMessage());
    }

    @Test
    void benchCodecPrintsPerApiFiguresAndJson() {
        String[] r = run("bench", "codec", "--iterations", "3", "--api-key", "Produce", "--api-key", "3", "--api-key",
                "list_offsets");
        assertEquals("0", r[0], r[2]);
        assertTrue(r[1].contains("Produce ") && r[1].contains("Metadata ") && r[1].contains("ListOffsets "), r[1]);
        assertTrue(r[1].contains("total") && r[1].contains("matched its frame byte for byte"), r[1]);
        assertTrue(!r[1].contains("Fetch "), r[1]);

        String[] j = run("bench", "codec", "--iterations", "2", "--api-key", "FETCH", "--response", "--json");
        assertEquals("0", j[0], j[2]);
        String json = j[1].strip();
        assertTrue(json.startsWith("{\"iterations\":2,") && json.endsWith("}") && !json.contains("\n"), json);
        assertTrue(json.contains("\"api\":\"Fetch\"") && json.contains("\"ns_per_frame\":") && json.contains("\"mb_per_sec\":")
                && json.contains("\"total\":{"), json);

        String[] all = run("bench", "codec", "--iterations", "1", "--request");
        assertEquals("0", all[0], all[2]);

        String[] bad = run("bench", "codec", "--api-key", "NoSuchApi");
        assertEquals("1", bad[0]);
        assertTrue(bad[2].startsWith("kiri: unknown api key 'NoSuchApi'"), bad[2]);
    }
}
