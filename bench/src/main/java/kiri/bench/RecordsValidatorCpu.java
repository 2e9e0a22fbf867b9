package kiri.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import kiri.protocol.record.CompressionType;

/**
 * {@link RecordsValidatorBenchmark}'s validate and crc, timed in thread CPU time rather than wall
 * time: on a shared, overloaded machine a descheduled thread inflates JMH's wall-clock figures,
 * not these. Prints ns of CPU per batch and per million records, for each codec, 8 rounds each.
 *
 * <pre>{@code
 * java -XX:TieredStopAtLevel=1 -cp bench/target/benchmarks.jar kiri.bench.RecordsValidatorCpu [batches-per-round]
 * }</pre>
 */
public final class RecordsValidatorCpu {
    private RecordsValidatorCpu() {
    }

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        for (CompressionType codec : new CompressionType[] {CompressionType.NONE, CompressionType.LZ4}) {
            RecordsValidatorBenchmark bench = new RecordsValidatorBenchmark();
            bench.codec = codec;
            bench.setup();
            int batches = codec == CompressionType.NONE ? n : n / 10;
            for (int round = 0; round < 8; round++) {
                long t0 = cpu.getCurrentThreadCpuTime();
                int valid = 0;
                for (int i = 0; i < batches; i++) {
                    valid += bench.validate().isValid() ? 1 : 0;
                }
                long t1 = cpu.getCurrentThreadCpuTime();
                for (int i = 0; i < batches; i++) {
                    valid += bench.crc() ? 1 : 0;
                }
                long t2 = cpu.getCurrentThreadCpuTime();
                double validate = (t1 - t0) / (double) batches;
                double crc = (t2 - t1) / (double) batches;
                System.out.printf("%s round %d: validate %.0f ns/batch (%.1f ms per million records), crc %.0f ns/batch"
                        + " (%d ok)%n", codec, round, validate, validate * 1e6 / RecordsValidatorBenchmark.RECORDS / 1e6,
                        crc, valid);
            }
        }
    }
}
