package kiri.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class MetricWriterTest {
    @Test
    void histogramIsCumulativeInBaseUnitsWithInfAndSumAndCount() {
        Histogram h = new Histogram(100_000L, 1_000_000L);
        h.record(50_000L);      // first bucket
        h.record(100_000L);     // bounds are inclusive
        h.record(500_000L);
        h.record(7_000_000_000L); // +Inf
        StringBuilder out = new StringBuilder();
        MetricWriter w = new MetricWriter(out);
        w.family("x_seconds", "histogram", "Some time.");
        h.writeTo(w, "x_seconds", 1e9, "api", "Produce");
        assertEquals("""
                # HELP x_seconds Some time.
                # TYPE x_seconds histogram
                x_seconds_bucket{api="Produce",le="1.0E-4"} 2
                x_seconds_bucket{api="Produce",le="0.001"} 3
                x_seconds_bucket{api="Produce",le="+Inf"} 4
                x_seconds_sum{api="Produce"} 7.00065
                x_seconds_count{api="Produce"} 4
                """, out.toString());
        assertEquals(4, h.count());
    }

    @Test
    void labelValuesAndHelpAreEscapedAsTheFormatSays() {
        StringBuilder out = new StringBuilder();
        new MetricWriter(out).family("t", "gauge", "a \\ b\nc \"q\"").sample("t", 1L, "topic", "a\"b\\c\nd")
                .sample("t", Double.NaN).sample("t", 2.5);
        assertEquals("""
                # HELP t a \\\\ b\\nc "q"
                # TYPE t gauge
                t{topic="a\\"b\\\\c\\nd"} 1
                t NaN
                t 2.5
                """, out.toString());
    }

    @Test
    void boundsMustAscend() {
        assertThrows(IllegalArgumentException.class, () -> new Histogram(5, 5));
    }
}
