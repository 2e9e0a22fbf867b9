package kiri.storage.api;

import java.util.Objects;

/**
 * A user's SCRAM credential for one mechanism (RFC 5802), as Kafka keeps it: never the password, only the
 * salt, the iteration count and the keys derived from the salted password ({@code StoredKey = H(HMAC(salted,
 * "Client Key"))}, {@code ServerKey = HMAC(salted, "Server Key")}). Immutable; the arrays are not copied,
 * so callers must not change them.
 *
 * @param user the user name (a principal {@code User:NAME})
 * @param mechanism {@code SCRAM-SHA-256} or {@code SCRAM-SHA-512}
 */
public record ScramCredential(String user, String mechanism, byte[] salt, byte[] storedKey, byte[] serverKey,
        int iterations) {
    public ScramCredential {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(mechanism, "mechanism");
        Objects.requireNonNull(salt, "salt");
        Objects.requireNonNull(storedKey, "storedKey");
        Objects.requireNonNull(serverKey, "serverKey");
    }
}
