package kiri.launcher;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Just enough JSON for the command line, without a JSON library at runtime: string escaping for
 * output, and a reader for one flat object per line whose values come back as strings (string
 * values unescaped, null as null, anything else - numbers, booleans, nested objects - as its raw
 * JSON text).
 */
final class Json {
    private Json() {
    }

    static String quote(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    /** Parses {@code {"k": v, ...}}; throws IllegalArgumentException naming the column on bad input. */
    static Map<String, String> parseObject(String text) {
        Reader r = new Reader(text);
        Map<String, String> out = new LinkedHashMap<>();
        r.skipSpace();
        r.expect('{');
        r.skipSpace();
        if (r.peek() == '}') {
            r.pos++;
        } else {
            while (true) {
                r.skipSpace();
                String key = r.string();
                r.skipSpace();
                r.expect(':');
                r.skipSpace();
                out.put(key, r.value());
                r.skipSpace();
                char c = r.next();
                if (c == '}') {
                    break;
                }
                if (c != ',') {
                    throw r.error("expected ',' or '}'");
                }
            }
        }
        r.skipSpace();
        if (r.pos != text.length()) {
            throw r.error("unexpected text after the object");
        }
        return out;
    }

    private static final class Reader {
        final String s;
        int pos;

        Reader(String s) {
            this.s = s;
        }

        IllegalArgumentException error(String what) {
            return new IllegalArgumentException("bad JSON at column " + (pos + 1) + ": " + what);
        }

        char peek() {
            if (pos >= s.length()) {
                throw error("unexpected end");
            }
            return s.charAt(pos);
        }

        char next() {
            char c = peek();
            pos++;
            return c;
        }

        void expect(char c) {
            if (next() != c) {
                pos--;
                throw error("expected '" + c + "'");
            }
        }

        void skipSpace() {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
                pos++;
            }
        }

        String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (true) {
                char c = next();
                if (c == '"') {
                    return b.toString();
                }
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                char e = next();
                switch (e) {
                    case '"', '\\', '/' -> b.append(e);
                    case 'n' -> b.append('\n');
                    case 'r' -> b.append('\r');
                    case 't' -> b.append('\t');
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'u' -> {
                        if (pos + 4 > s.length()) {
                            throw error("short \\u escape");
                        }
                        try {
                            b.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
                        } catch (NumberFormatException ex) {
                            throw error("bad \\u escape");
                        }
                        pos += 4;
                    }
                    default -> throw error("bad escape \\" + e);
                }
            }
        }

        /** A value: a string (unescaped), null, or the raw text of anything else. */
        String value() {
            char c = peek();
            if (c == '"') {
                return string();
            }
            if (s.startsWith("null", pos)) {
                pos += 4;
                return null;
            }
            int start = pos;
            skipRaw();
            return s.substring(start, pos);
        }

        private void skipRaw() {
            char c = peek();
            if (c == '{' || c == '[') {
                char close = c == '{' ? '}' : ']';
                pos++;
                skipSpace();
                if (peek() == close) {
                    pos++;
                    return;
                }
                while (true) {
                    skipSpace();
                    if (close == '}') {
                        string();
                        skipSpace();
                        expect(':');
                        skipSpace();
                    }
                    if (peek() == '"') {
                        string();
                    } else {
                        skipRaw();
                    }
                    skipSpace();
                    char n = next();
                    if (n == close) {
                        return;
                    }
                    if (n != ',') {
                        throw error("expected ',' or '" + close + "'");
                    }
                }
            }
            int start = pos;
            while (pos < s.length() && "-+.eE0123456789truefalsn".indexOf(s.charAt(pos)) >= 0) {
                pos++;
            }
            if (pos == start) {
                throw error("unexpected '" + c + "'");
            }
        }
    }
}
