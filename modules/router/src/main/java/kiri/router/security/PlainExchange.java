package kiri.router.security;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;

/**
 * SASL/PLAIN (RFC 4616): one token {@code authzid NUL authcid NUL password}, checked against the listener's
 * {@code user_NAME="password"} entries as Kafka's PlainServerCallbackHandler does. Only meant for TLS or trusted
 * networks: the password crosses the wire as is.
 */
public final class PlainExchange implements SaslExchange {
    private final Map<String, String> users;
    private String user;

    public PlainExchange(Map<String, String> users) {
        this.users = users;
    }

    @Override
    public byte[] evaluate(byte[] token) throws AuthenticationFailure {
        if (user != null) {
            throw new AuthenticationFailure("PLAIN authentication is already complete");
        }
        String s = new String(token, StandardCharsets.UTF_8);
        int first = s.indexOf('\0');
        int second = first < 0 ? -1 : s.indexOf('\0', first + 1);
        if (first < 0 || second < 0 || s.indexOf('\0', second + 1) >= 0) {
            throw new AuthenticationFailure("Invalid SASL/PLAIN response: expected 3 tokens");
        }
        String authzid = s.substring(0, first);
        String username = s.substring(first + 1, second);
        String password = s.substring(second + 1);
        if (username.isEmpty()) {
            throw new AuthenticationFailure("Authentication failed: username not specified");
        }
        if (password.isEmpty()) {
            throw new AuthenticationFailure("Authentication failed: password not specified");
        }
        String expected = users.get(username);
        // compared in constant time, and the same message for an unknown user as for a wrong password
        if (expected == null || !MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8),
                password.getBytes(StandardCharsets.UTF_8))) {
            throw new AuthenticationFailure("Authentication failed: Invalid username or password");
        }
        if (!authzid.isEmpty() && !authzid.equals(username)) {
            throw new AuthenticationFailure("Authentication failed: Client requested an authorization id that is"
                    + " different from username");
        }
        user = username;
        return new byte[0];
    }

    @Override
    public String authenticatedUser() {
        return user;
    }
}
