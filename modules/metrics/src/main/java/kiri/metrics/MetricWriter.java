package kiri.metrics;

/**
 * Writes Prometheus' text exposition format (version 0.0.4) into a {@link StringBuilder}: a family header
 * ({@code # HELP}, {@code # TYPE}) and then its samples, which must follow it before the next family.
 * Label values are escaped; names are the caller's constants. Not thread-safe: one per scrape.
 */
public final class MetricWriter {
    /** The content type of what this writes. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final StringBuilder out;

    public MetricWriter(StringBuilder out) {
        this.out = out;
    }

    /** Starts a family: {@code type} is counter, gauge, histogram or untyped. */
    public MetricWriter family(String name, String type, String help) {
        out.append("# HELP ").append(name).append(' ');
        escape(help, false);
        out.append("\n# TYPE ").append(name).append(' ').append(type).append('\n');
        return this;
    }

    /** One sample; {@code labels} alternate names and values. */
    public MetricWriter sample(String name, long value, String... labels) {
        labels(name, labels);
        out.append(value).append('\n');
        return this;
    }

    /** One sample with a floating-point value (NaN and infinities in Prometheus' spelling). */
    public MetricWriter sample(String name, double value, String... labels) {
        labels(name, labels);
        number(value);
        out.append('\n');
        return this;
    }

    /** A family with one sample. */
    public MetricWriter gauge(String name, String help, double value) {
        return family(name, "gauge", help).sample(name, value);
    }

    private void labels(String name, String[] labels) {
        out.append(name);
        if (labels.length > 0) {
            out.append('{');
            for (int i = 0; i + 1 < labels.length; i += 2) {
                if (i > 0) out.append(',');
                out.append(labels[i]).append("=\"");
                escape(labels[i + 1], true);
                out.append('"');
            }
            out.append('}');
        }
        out.append(' ');
    }

    void number(double value) {
        if (Double.isNaN(value)) out.append("NaN");
        else if (value == Double.POSITIVE_INFINITY) out.append("+Inf");
        else if (value == Double.NEGATIVE_INFINITY) out.append("-Inf");
        else if (value == Math.rint(value) && Math.abs(value) < 1e15) out.append((long) value);
        else out.append(value);
    }

    /** Backslash and newline always; the double quote inside label values only, as the format says. */
    private void escape(String s, boolean quote) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '"' -> out.append(quote ? "\\\"" : "\"");
                default -> out.append(c);
            }
        }
    }
}
