package kiri.router.security;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import kiri.storage.api.ScramCredential;

/**
 * The SCRAM mechanisms Kafka supports (RFC 5802 with RFC 7677's SHA-256, and SHA-512), with the key derivations
 * both the exchange and credential management need. Stateless and thread-safe ({@link Mac} and
 * {@link MessageDigest} instances are made per call).
 */
public enum ScramMechanism {
    SCRAM_SHA_256("SCRAM-SHA-256", (byte) 1, "SHA-256", "HmacSHA256"),
    SCRAM_SHA_512("SCRAM-SHA-512", (byte) 2, "SHA-512", "HmacSHA512");

    /** Kafka's bounds for a credential's iteration count (AlterUserScramCredentials, kafka-configs). */
    public static final int MIN_ITERATIONS = 4096;
    public static final int MAX_ITERATIONS = 16384;

    public final String mechanismName;
    /** The {@code Mechanism} code of DescribeUserScramCredentials/AlterUserScramCredentials. */
    public final byte type;
    private final String hash;
    private final String hmac;

    ScramMechanism(String mechanismName, byte type, String hash, String hmac) {
        this.mechanismName = mechanismName;
        this.type = type;
        this.hash = hash;
        this.hmac = hmac;
    }

    /** The mechanism called {@code name}, or null. */
    public static ScramMechanism forName(String name) {
        for (ScramMechanism m : values()) {
            if (m.mechanismName.equals(name)) {
                return m;
            }
        }
        return null;
    }

    /** The mechanism with protocol code {@code type}, or null. */
    public static ScramMechanism forType(byte type) {
        for (ScramMechanism m : values()) {
            if (m.type == type) {
                return m;
            }
        }
        return null;
    }

    /** The credential for {@code user} from the salted password (what AlterUserScramCredentials carries). */
    public ScramCredential credential(String user, byte[] saltedPassword, byte[] salt, int iterations) {
        byte[] clientKey = hmac(saltedPassword, bytes("Client Key"));
        byte[] serverKey = hmac(saltedPassword, bytes("Server Key"));
        return new ScramCredential(user, mechanismName, salt.clone(), hash(clientKey), serverKey, iterations);
    }

    /** The credential for {@code user} from a password. */
    public ScramCredential credential(String user, String password, byte[] salt, int iterations) {
        return credential(user, hi(bytes(password), salt, iterations), salt, iterations);
    }

    /** RFC 5802's Hi(): PBKDF2 with this mechanism's HMAC and an output of one hash length. */
    public byte[] hi(byte[] password, byte[] salt, int iterations) {
        Mac mac = mac(password);
        mac.update(salt);
        byte[] u = mac.doFinal(new byte[] {0, 0, 0, 1});
        byte[] result = u.clone();
        for (int i = 1; i < iterations; i++) {
            u = mac.doFinal(u);
            for (int j = 0; j < result.length; j++) {
                result[j] ^= u[j];
            }
        }
        return result;
    }

    public byte[] hmac(byte[] key, byte[] data) {
        return mac(key).doFinal(data);
    }

    public byte[] hash(byte[] data) {
        try {
            return MessageDigest.getInstance(hash).digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(hash + " is missing from this JDK", e);
        }
    }

    private Mac mac(byte[] key) {
        try {
            Mac mac = Mac.getInstance(hmac);
            // an empty key is legal for HMAC but SecretKeySpec refuses it: a key of one zero byte is equivalent
            mac.init(new SecretKeySpec(key.length == 0 ? new byte[1] : key, hmac));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(hmac + " is missing from this JDK", e);
        }
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] xor(byte[] a, byte[] b) {
        byte[] r = Arrays.copyOf(a, a.length);
        for (int i = 0; i < r.length; i++) {
            r[i] ^= b[i];
        }
        return r;
    }
}
