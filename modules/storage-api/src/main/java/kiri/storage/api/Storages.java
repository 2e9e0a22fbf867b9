package kiri.storage.api;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.SortedSet;
import java.util.TreeSet;

/** Finds a storage engine by the scheme of a {@code --storage} URL and opens it. */
public final class Storages {
    private Storages() {}

    /** Opens {@code url} with an engine from the boot layer (and the context class loader). */
    public static Storage open(String url, StorageContext context) {
        return open(url, context, load(ServiceLoader.load(StorageProvider.class)));
    }

    /** Opens {@code url} with an engine from {@code layer} or its parents (e.g. the launcher's {@code plugins/} layer). */
    public static Storage open(String url, StorageContext context, ModuleLayer layer) {
        return open(url, context, load(ServiceLoader.load(layer, StorageProvider.class)));
    }

    /**
     * Opens {@code url} with the provider among {@code providers} whose scheme matches.
     *
     * @throws IllegalArgumentException for a malformed URL or an unknown scheme; the message lists the
     *                                  schemes found, e.g. {@code no storage engine for scheme 'foo' (found: memory, null)}
     */
    public static Storage open(String url, StorageContext context, Iterable<? extends StorageProvider> providers) {
        StorageUrl parsed = StorageUrl.parse(url);
        return provider(parsed.scheme(), providers).open(parsed, context);
    }

    /** The provider for {@code scheme} (case-insensitive). @throws IllegalArgumentException if none, or more than one, answers it */
    public static StorageProvider provider(String scheme, Iterable<? extends StorageProvider> providers) {
        StorageProvider found = null;
        for (StorageProvider p : providers) {
            if (!p.scheme().equalsIgnoreCase(scheme)) continue;
            if (found != null) {
                throw new IllegalArgumentException("two storage engines for scheme '" + scheme + "': "
                        + found.getClass().getName() + " and " + p.getClass().getName());
            }
            found = p;
        }
        if (found == null) {
            SortedSet<String> schemes = schemes(providers);
            throw new IllegalArgumentException("no storage engine for scheme '" + scheme + "' (found: "
                    + (schemes.isEmpty() ? "none" : String.join(", ", schemes)) + ")");
        }
        return found;
    }

    /** The schemes {@code providers} answer, sorted. */
    public static SortedSet<String> schemes(Iterable<? extends StorageProvider> providers) {
        SortedSet<String> schemes = new TreeSet<>();
        for (StorageProvider p : providers) schemes.add(p.scheme());
        return schemes;
    }

    /** The providers {@code ServiceLoader} finds in {@code layer} and its parents. */
    public static List<StorageProvider> providers(ModuleLayer layer) {
        return load(ServiceLoader.load(layer, StorageProvider.class));
    }

    /** Instantiates every provider once, turning a broken plugin into a one-line error. */
    private static List<StorageProvider> load(ServiceLoader<StorageProvider> loader) {
        List<StorageProvider> out = new ArrayList<>();
        try {
            for (StorageProvider p : loader) out.add(p);
        } catch (ServiceConfigurationError e) {
            throw new IllegalArgumentException("cannot load a storage engine: " + e.getMessage(), e);
        }
        return out;
    }
}
