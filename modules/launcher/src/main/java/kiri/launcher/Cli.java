package kiri.launcher;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The picocli {@code kiri} command with all its subcommands: every command line except a plain
 * {@code kiri broker ...} (see {@link Main}) goes through here.
 */
@Command(name = "kiri", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class,
        description = "Kiri: a Kafka-compatible broker, proxy and protocol library.")
final class Cli implements Runnable {
    @CommandLine.Spec
    CommandSpec spec;

    /** Runs the command line with the given output streams and returns the exit code. */
    static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cli = new CommandLine(new Cli());
        java.util.function.Function<String, String> environment = System::getenv;
        if (args.length > 0 && args[0].equals("broker")) {
            try {
                environment = BrokerCommand.environment(java.util.Arrays.asList(args).subList(1, args.length), environment);
            } catch (IllegalArgumentException e) {
                err.println("kiri: " + e.getMessage());
                return 1;
            }
        }
        cli.addSubcommand("broker", new CommandLine(broker(environment)));
        cli.addSubcommand("proxy", new ProxyCommand());
        cli.addSubcommand("topic", new TopicCommand());
        cli.addSubcommand("cat", new CatCommand());
        cli.addSubcommand("group", new GroupCommand());
        cli.addSubcommand("perf", new PerfCommand());
        cli.addSubcommand("bench", new BenchCommand());
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler((e, line, parsed) -> Main.fail(e, verbose(parsed), line.getErr()));
        cli.setParameterExceptionHandler((e, a) -> {
            e.getCommandLine().getErr().println("kiri: " + e.getMessage());
            return 2;
        });
        return cli.execute(args);
    }

    /** Whether {@code --verbose} was given to the command that ran, however deeply nested ({@code kiri topic create}). */
    private static boolean verbose(CommandLine.ParseResult parsed) {
        for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }

    /** {@code kiri broker} as a picocli command, built from {@link BrokerCommand#OPTIONS}. */
    static CommandSpec broker() {
        return broker(System::getenv);
    }

    /** The same, with environment variables from {@code environment} (tests pass their own). */
    static CommandSpec broker(java.util.function.Function<String, String> environment) {
        CommandSpec[] self = new CommandSpec[1];
        Callable<Integer> call = () -> BrokerCommand.run(
                BrokerCommand.Values.of(name -> self[0].findOption(name).getValue()), self[0].commandLine().getOut());
        CommandSpec spec = CommandSpec.wrapWithoutInspection(call);
        self[0] = spec;
        spec.name("broker").mixinStandardHelpOptions(true);
        spec.usageMessage().description(BrokerCommand.DESCRIPTION);
        for (BrokerCommand.Option option : BrokerCommand.OPTIONS) {
            OptionSpec.Builder b = OptionSpec.builder(option.name()).description(option.description());
            switch (option.kind()) {
                case STRING -> b.type(String.class).paramLabel(option.label());
                case INT -> b.type(int.class).paramLabel(option.label());
                case FLAG -> b.type(boolean.class);
                case NEGATABLE -> b.type(boolean.class).negatable(true).fallbackValue("true");
                case REPEATABLE -> b.type(java.util.List.class).auxiliaryTypes(String.class).paramLabel(option.label());
            }
            String value = option.defaultValue(environment);
            if (value != null) {
                b.defaultValue(value.replace("${", "$${"));   // a literal value, as the environment gave it
            }
            spec.addOption(b.build());
        }
        return spec;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
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
