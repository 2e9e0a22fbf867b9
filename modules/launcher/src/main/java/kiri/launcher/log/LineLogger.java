package kiri.launcher.log;

import java.util.ResourceBundle;

/** A named {@link System.Logger} that hands each record to {@link Logs#write}. Thread-safe; never throws. */
final class LineLogger implements System.Logger {
    private static final Object[] NO_PARAMS = {};

    private final String name;

    LineLogger(String name) {
        this.name = name;
    }

    @Override
    public String getName() {
        return name;
    }

    @Override
    public boolean isLoggable(Level level) {
        return Logs.enabled(level);
    }

    @Override
    public void log(Level level, ResourceBundle bundle, String message, Throwable thrown) {
        if (Logs.enabled(level)) {
            Logs.write(name, level, message, NO_PARAMS, thrown);
        }
    }

    @Override
    public void log(Level level, ResourceBundle bundle, String format, Object... params) {
        if (Logs.enabled(level)) {
            Logs.write(name, level, format, params == null ? NO_PARAMS : params, null);
        }
    }
}
