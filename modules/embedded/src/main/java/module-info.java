/**
 * A Kiri broker inside the caller's JVM ({@link kiri.embedded.EmbeddedKiri}) and a JUnit 5 extension
 * that hands tests one ({@link kiri.embedded.junit.KiriBroker}). JUnit is optional: only the
 * extension package needs it.
 */
module kiri.embedded {
    requires kiri.launcher;
    requires kiri.storage.api;
    requires static org.junit.jupiter.api;
    exports kiri.embedded;
    exports kiri.embedded.junit;
}
