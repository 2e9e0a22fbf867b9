package kiri.codegen;

/**
 * An inclusive range of message versions, parsed from a spec string: {@code "3+"}, {@code "0-2"},
 * {@code "5"} or {@code "none"}. An open upper bound is {@link Short#MAX_VALUE}.
 */
record Versions(short lowest, short highest) {
    static final Versions NONE = new Versions((short) 0, (short) -1);
    static final Versions ALL = new Versions((short) 0, Short.MAX_VALUE);

    static Versions parse(String text, Versions ifMissing) {
        if (text == null) {
            return ifMissing;
        }
        String s = text.trim();
        if (s.equals("none")) {
            return NONE;
        }
        if (s.endsWith("+")) {
            return new Versions(parseShort(s.substring(0, s.length() - 1), text), Short.MAX_VALUE);
        }
        int dash = s.indexOf('-');
        if (dash > 0) {
            Versions v = new Versions(parseShort(s.substring(0, dash), text), parseShort(s.substring(dash + 1), text));
            if (v.isEmpty()) {
                throw new SpecException("empty version range '" + text + "'");
            }
            return v;
        }
        short single = parseShort(s, text);
        return new Versions(single, single);
    }

    private static short parseShort(String s, String whole) {
        try {
            short v = Short.parseShort(s.trim());
            if (v < 0) {
                throw new SpecException("negative version in '" + whole + "'");
            }
            return v;
        } catch (NumberFormatException e) {
            throw new SpecException("bad version range '" + whole + "'");
        }
    }

    boolean isEmpty() {
        return lowest > highest;
    }

    boolean contains(short v) {
        return v >= lowest && v <= highest;
    }

    boolean contains(Versions other) {
        return other.isEmpty() || (!isEmpty() && other.lowest >= lowest && other.highest <= highest);
    }

    Versions intersect(Versions other) {
        Versions v = new Versions((short) Math.max(lowest, other.lowest), (short) Math.min(highest, other.highest));
        return v.isEmpty() ? NONE : v;
    }

    /** The smallest range holding both. */
    Versions hull(Versions other) {
        if (isEmpty()) {
            return other;
        }
        if (other.isEmpty()) {
            return this;
        }
        return new Versions((short) Math.min(lowest, other.lowest), (short) Math.max(highest, other.highest));
    }

    @Override
    public String toString() {
        if (isEmpty()) {
            return "none";
        }
        return highest == Short.MAX_VALUE ? lowest + "+" : lowest + "-" + highest;
    }
}
