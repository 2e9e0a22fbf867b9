package kiri.codegen;

/** Accumulates Java source with indentation. */
final class CodeBuilder {
    private final StringBuilder out = new StringBuilder();
    private int indent;

    CodeBuilder line(String text) {
        if (!text.isEmpty()) {
            out.repeat("    ", indent);
        }
        out.append(text).append('\n');
        return this;
    }

    CodeBuilder blank() {
        out.append('\n');
        return this;
    }

    /** Writes {@code text} and indents what follows (text usually ends with '{'). */
    CodeBuilder open(String text) {
        if (!text.isEmpty()) {
            line(text);
        }
        indent++;
        return this;
    }

    /** Outdents and writes {@code text} (usually '}'). */
    CodeBuilder close(String text) {
        indent--;
        return line(text);
    }

    CodeBuilder close() {
        return close("}");
    }

    /** A Javadoc comment, made safe for any spec text. */
    CodeBuilder doc(String text) {
        if (text == null || text.isBlank()) {
            return this;
        }
        String safe = text.replace("*/", "* /").replaceAll("(?<!\\{)@", "{@literal @}").replace("<", "&lt;")
                .replace(">", "&gt;").replace("\\u", "\\\\u");
        return line("/** " + safe.strip() + " */");
    }

    @Override
    public String toString() {
        return out.toString();
    }
}
