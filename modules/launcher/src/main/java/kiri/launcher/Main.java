package kiri.launcher;

import java.io.PrintWriter;
import java.util.Arrays;
import kiri.launcher.log.Logs;

/**
 * The {@code kiri} command. A plain {@code kiri broker ...} is parsed by {@link BrokerCommand#parse} and
 * starts without loading picocli; everything else (other commands, help, usage errors) goes to
 * {@link Cli}. This class must not reference picocli.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (tests call this). */
    public static int run(String... args) {
        return run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    /** Runs the command line with the given output streams and returns the exit code. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        Logs.init(Arrays.asList(args).contains("--verbose"));
        if (args.length > 0 && args[0].equals("broker")) {
            BrokerCommand.Values options;
            try {
                options = BrokerCommand.parse(Arrays.asList(args).subList(1, args.length), System::getenv);
            } catch (IllegalArgumentException e) { // a bad --config file or --override
                return fail(e, Arrays.asList(args).contains("--verbose"), err);
            }
            if (options != null) {
                try {
                    return BrokerCommand.run(options, out);
                } catch (Exception e) {
                    return fail(e, options.verbose(), err);
                }
            }
        }
        return Cli.run(out, err, args);
    }

    /** A user error: one line, no stack trace unless --verbose; exit code 1. */
    static int fail(Exception e, boolean verbose, PrintWriter err) {
        if (verbose) {
            e.printStackTrace(err);
        }
        String message = e.getMessage() != null ? e.getMessage() : e.toString();
        err.println("kiri: " + message);
        return 1;
    }
}
