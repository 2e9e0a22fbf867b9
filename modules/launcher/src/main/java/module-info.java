/** The kiri command line. */
module kiri.launcher {
    requires kiri.router;
    requires kiri.proxy;
    requires kiri.storage.api;
    requires kiri.client;
    requires kiri.compress;
    requires HdrHistogram;
    requires info.picocli;
    uses kiri.storage.api.StorageProvider;
    // every System.Logger of the process writes one line per record (kiri.launcher.log.Logs)
    provides java.lang.System.LoggerFinder with kiri.launcher.log.LineLoggerFinder;
    opens kiri.launcher to info.picocli;
    // Broker and its settings, for the in-process broker of kiri-embedded
    exports kiri.launcher to kiri.embedded;
}
