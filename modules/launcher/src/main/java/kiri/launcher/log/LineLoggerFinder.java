package kiri.launcher.log;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Kiri's {@link System.LoggerFinder} (a service of {@code kiri.launcher}): every {@link System.Logger} of every
 * module (transport, router, storage, ...) writes one line per record to stderr through {@link Logs}. The image
 * holds only {@code java.base}, whose fallback logger prints two lines per record, formats parameters with
 * {@link java.text.MessageFormat} (thousands separators in ports) and loads time-zone data at its first line.
 *
 * <p>Thread-safe; loggers are cached by name for the life of the JVM.
 */
public final class LineLoggerFinder extends System.LoggerFinder {
    private final ConcurrentHashMap<String, System.Logger> loggers = new ConcurrentHashMap<>();

    /** Called by {@link java.util.ServiceLoader}. */
    public LineLoggerFinder() {
    }

    @Override
    public System.Logger getLogger(String name, Module module) {
        return loggers.computeIfAbsent(name, LineLogger::new);
    }
}
