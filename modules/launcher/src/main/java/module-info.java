/** The kiri command line. */
module kiri.launcher {
    requires kiri.router;
    requires kiri.proxy;
    requires kiri.storage.api;
    requires kiri.client;
    requires kiri.compress;
    requires HdrHistogram;
    requires info.picocli;
    requires java.management;
    uses kiri.storage.api.StorageProvider;
    opens kiri.launcher to info.picocli;
}
