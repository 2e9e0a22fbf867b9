package kiri.launcher;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code kiri} command: {@code kiri broker ...}. */
@Command(name = "kiri", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Kiri: a Kafka-compatible broker, proxy and protocol library.",
        subcommands = {BrokerCommand.class, ProxyCommand.class, TopicCommand.class, CatCommand.class, PerfCommand.class,
                BenchCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (tests call this). */
    public static int run(String... args) {
        return run(new java.io.PrintWriter(System.out, true), new java.io.PrintWriter(System.err, true), args);
    }

    /** Runs the command line with the given output streams and returns the exit code. */
    public static int run(java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler(new Errors());
        cli.setParameterExceptionHandler((e, a) -> {
            e.getCommandLine().getErr().println("kiri: " + e.getMessage());
            return 2;
        });
        return cli.execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** User errors: one line, no stack trace unless --verbose. */
    static final class Errors implements CommandLine.IExecutionExceptionHandler {
        @Override
        public int handleExecutionException(Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
            boolean verbose = parsed.subcommand() != null && parsed.subcommand().hasMatchedOption("--verbose");
            if (verbose) {
                e.printStackTrace(cli.getErr());
            }
            String message = e.getMessage() != null ? e.getMessage() : e.toString();
            cli.getErr().println("kiri: " + message);
            return 1;
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getModule().getDescriptor() != null
                    ? Main.class.getModule().getDescriptor().rawVersion().orElse("dev") : "dev";
            return new String[] {"kiri " + v};
        }
    }
}
