package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Certificates made with the JDK's keytool for the TLS tests: a server key store (CN=localhost, SAN 127.0.0.1), a
 * client key store (CN=client,O=Kiri), and trust stores holding each other's certificate; PKCS12, plus PEM copies.
 */
record TestCertificates(Path dir) {
    static final String PASSWORD = "test-secret";

    static TestCertificates make(Path dir) throws Exception {
        TestCertificates c = new TestCertificates(dir);
        c.keytool("-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=localhost",
                "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "3", "-storetype", "PKCS12",
                "-keystore", c.serverKeys().toString(), "-storepass", PASSWORD, "-keypass", PASSWORD);
        c.keytool("-genkeypair", "-alias", "client", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=client,O=Kiri",
                "-validity", "3", "-storetype", "PKCS12", "-keystore", c.clientKeys().toString(), "-storepass", PASSWORD,
                "-keypass", PASSWORD);
        c.keytool("-exportcert", "-rfc", "-alias", "server", "-keystore", c.serverKeys().toString(), "-storepass", PASSWORD,
                "-file", c.serverCertPem().toString());
        c.keytool("-exportcert", "-rfc", "-alias", "client", "-keystore", c.clientKeys().toString(), "-storepass", PASSWORD,
                "-file", dir.resolve("client-cert.pem").toString());
        c.keytool("-importcert", "-noprompt", "-alias", "server", "-file", c.serverCertPem().toString(), "-storetype", "PKCS12",
                "-keystore", c.clientTrust().toString(), "-storepass", PASSWORD);
        c.keytool("-importcert", "-noprompt", "-alias", "client", "-file", dir.resolve("client-cert.pem").toString(),
                "-storetype", "PKCS12", "-keystore", c.serverTrust().toString(), "-storepass", PASSWORD);
        // the server's key and chain as PEM (PKCS#8), as Kafka's ssl.keystore.type=PEM reads them
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(c.serverKeys())) {
            ks.load(in, PASSWORD.toCharArray());
        }
        String key = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(ks.getKey("server", PASSWORD.toCharArray()).getEncoded());
        Files.writeString(c.serverPem(), "-----BEGIN PRIVATE KEY-----\n" + key + "\n-----END PRIVATE KEY-----\n"
                + Files.readString(c.serverCertPem()));
        return c;
    }

    Path serverKeys() {
        return dir.resolve("server.p12");
    }

    Path serverPem() {
        return dir.resolve("server-key-and-chain.pem");
    }

    Path serverCertPem() {
        return dir.resolve("server-cert.pem");
    }

    Path serverTrust() {
        return dir.resolve("server-trust.p12");
    }

    Path clientKeys() {
        return dir.resolve("client.p12");
    }

    Path clientTrust() {
        return dir.resolve("client-trust.p12");
    }

    private void keytool(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(60, TimeUnit.SECONDS);
        assertEquals(0, p.exitValue(), "keytool " + command + ": " + out);
    }
}
