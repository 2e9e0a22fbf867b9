package kiri.storage.api;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * A parsed {@code --storage} URL: {@code SCHEME:[//]LOCATION[?k=v&k2=v2]}. Parsed by hand rather than
 * with {@link java.net.URI}, which rejects or mangles the forms users type ({@code file:./kiri-data},
 * paths with spaces).
 * <ul>
 *   <li>{@code null://} and {@code memory://}: scheme only, empty location</li>
 *   <li>{@code file:./kiri-data?fsync=never}: location {@code ./kiri-data}, parameter {@code fsync=never}</li>
 *   <li>{@code file:///var/kiri}: location {@code /var/kiri} (a leading {@code //} is dropped)</li>
 *   <li>{@code postgres://user@host:5432/db}: location {@code user@host:5432/db}</li>
 * </ul>
 *
 * @param raw      the URL as given
 * @param scheme   lower-cased scheme, selects the {@link StorageProvider}
 * @param location what follows the scheme (minus a leading {@code //}), up to {@code ?}
 * @param params   decoded query parameters, in order
 */
public record StorageUrl(String raw, String scheme, String location, Map<String, String> params) {
    public StorageUrl {
        Objects.requireNonNull(raw, "raw");
        Objects.requireNonNull(scheme, "scheme");
        Objects.requireNonNull(location, "location");
        params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
    }

    /** @throws IllegalArgumentException with a one-line explanation if {@code url} has no valid scheme or repeats a parameter */
    public static StorageUrl parse(String url) {
        Objects.requireNonNull(url, "url");
        String text = url.trim();
        int colon = text.indexOf(':');
        if (colon <= 0 || !isScheme(text.substring(0, colon))) {
            throw new IllegalArgumentException("storage URL '" + url
                    + "' has no scheme; expected SCHEME:LOCATION, e.g. memory://, null:// or file:./kiri-data");
        }
        String scheme = text.substring(0, colon).toLowerCase(Locale.ROOT);
        String rest = text.substring(colon + 1);
        int q = rest.indexOf('?');
        String location = q < 0 ? rest : rest.substring(0, q);
        if (location.startsWith("//")) location = location.substring(2);
        Map<String, String> params = new LinkedHashMap<>();
        if (q >= 0) {
            for (String pair : rest.substring(q + 1).split("&")) {
                if (pair.isEmpty()) continue;
                int eq = pair.indexOf('=');
                String key = decode(eq < 0 ? pair : pair.substring(0, eq));
                String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
                if (params.put(key, value) != null) {
                    throw new IllegalArgumentException("storage URL '" + url + "' repeats parameter '" + key + "'");
                }
            }
        }
        return new StorageUrl(url, scheme, location, params);
    }

    /** A parameter's value, or {@code defaultValue} if absent. */
    public String param(String name, String defaultValue) {
        return params.getOrDefault(name, defaultValue);
    }

    /** Lets an engine refuse typos early. @throws IllegalArgumentException naming the unknown parameter and the known ones */
    public void requireOnlyParams(String... known) {
        List<String> ok = List.of(known);
        for (String name : params.keySet()) {
            if (!ok.contains(name)) {
                throw new IllegalArgumentException("unknown parameter '" + name + "' in storage URL '" + raw + "'"
                        + (ok.isEmpty() ? "; " + scheme + " takes none" : "; known: " + String.join(", ", ok)));
            }
        }
    }

    @Override
    public String toString() {
        return raw;
    }

    private static boolean isScheme(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
            boolean ok = letter || (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));
            if (!ok) return false;
        }
        return true;
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }
}
