package kiri.transport;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.EncryptedPrivateKeyInfo;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Key and trust material from files, as Kafka reads them: a PKCS12 (or JKS) store, or PEM (a certificate chain and
 * a PKCS#8 private key, encrypted or not). Errors name the file and what is wrong, in one line.
 */
public final class TlsFiles {
    private static final Pattern PEM = Pattern.compile("-----BEGIN ([A-Z ]+)-----([^-]+)-----END \\1-----");

    private TlsFiles() {
    }

    /**
     * An SSL context from a key store (required for a server; null: a client without a certificate) and a trust
     * store (null: the JDK's default trust).
     *
     * @param keyType PKCS12, JKS or PEM
     * @param keyPassword the store's password (PKCS12/JKS) or the PEM key's (null if not encrypted)
     * @param trustType PKCS12, JKS or PEM
     */
    public static SSLContext context(Path keyStore, String keyType, String keyPassword, Path trustStore,
            String trustType, String trustPassword) {
        try {
            KeyManagerFactory kmf = null;
            if (keyStore != null) {
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(load(keyStore, keyType, keyPassword, true), password(keyPassword));
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trustStore == null ? null : load(trustStore, trustType, trustPassword, false));
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot use " + (keyStore == null ? trustStore
                    : keyStore + (trustStore == null ? "" : " / " + trustStore))
                    + ": " + e.getMessage(), e);
        }
    }

    private static char[] password(String p) {
        return p == null ? new char[0] : p.toCharArray();
    }

    private static KeyStore load(Path file, String type, String password, boolean withKey) throws GeneralSecurityException {
        String t = type == null || type.isBlank() ? "PKCS12" : type.strip().toUpperCase(java.util.Locale.ROOT);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
        }
        if (t.equals("PEM")) {
            return pem(file, new String(bytes, StandardCharsets.US_ASCII), password, withKey);
        }
        KeyStore store = KeyStore.getInstance(t);
        try (InputStream in = new ByteArrayInputStream(bytes)) {
            store.load(in, password(password));
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot load " + file + " as " + t + ": " + e.getMessage(), e);
        }
        return store;
    }

    private static KeyStore pem(Path file, String text, String password, boolean withKey) throws GeneralSecurityException {
        List<Certificate> certs = new ArrayList<>();
        PrivateKey key = null;
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        Matcher m = PEM.matcher(text);
        while (m.find()) {
            byte[] der = Base64.getMimeDecoder().decode(m.group(2));
            switch (m.group(1)) {
                case "CERTIFICATE" -> certs.add(cf.generateCertificate(new ByteArrayInputStream(der)));
                case "PRIVATE KEY" -> key = privateKey(new PKCS8EncodedKeySpec(der));
                case "ENCRYPTED PRIVATE KEY" -> {
                    if (password == null) {
                        throw new IllegalArgumentException(file + " has an encrypted key: set ssl.key.password");
                    }
                    EncryptedPrivateKeyInfo info;
                    try {
                        info = new EncryptedPrivateKeyInfo(der);
                    } catch (IOException e) {
                        throw new IllegalArgumentException(file + ": bad encrypted private key: " + e.getMessage(), e);
                    }
                    var pbe = SecretKeyFactory.getInstance(info.getAlgName()).generateSecret(new PBEKeySpec(password.toCharArray()));
                    key = privateKey(info.getKeySpec(pbe));
                }
                default -> throw new IllegalArgumentException(file + ": unsupported PEM block " + m.group(1)
                        + " (use PKCS#8 'PRIVATE KEY' and 'CERTIFICATE' blocks)");
            }
        }
        if (certs.isEmpty()) {
            throw new IllegalArgumentException(file + " holds no PEM certificate");
        }
        KeyStore store = KeyStore.getInstance("PKCS12");
        try {
            store.load(null, null);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        if (withKey) {
            if (key == null) {
                throw new IllegalArgumentException(file + " holds no PEM private key");
            }
            store.setKeyEntry("key", key, password(password), certs.toArray(Certificate[]::new));
        } else {
            for (int i = 0; i < certs.size(); i++) {
                store.setCertificateEntry("ca" + i, certs.get(i));
            }
        }
        return store;
    }

    private static PrivateKey privateKey(PKCS8EncodedKeySpec spec) throws GeneralSecurityException {
        GeneralSecurityException last = null;
        for (String algorithm : List.of("RSA", "EC", "Ed25519", "DSA")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (GeneralSecurityException e) {
                last = e;
            }
        }
        throw last;
    }
}
