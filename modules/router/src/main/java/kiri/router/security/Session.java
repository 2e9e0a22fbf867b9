package kiri.router.security;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import kiri.protocol.ErrorCode;
import kiri.protocol.message.ApiKey;

/**
 * One connection's authentication: who it is ({@link #principal}) and, on a SASL listener, the state of its SASL
 * exchange, as Kafka's SaslServerAuthenticator keeps it. Before authentication only ApiVersions, SaslHandshake
 * and SaslAuthenticate are {@linkplain #admits admitted}; once a SASL session's lifetime
 * ({@code connections.max.reauth.ms}, KIP-368) has passed, only those again (the client re-authenticates on the
 * same connection, as the same principal). A failed step ends the session for good: the failing response is the
 * connection's last ({@link #closeAfterResponse}), and nothing after it is admitted.
 *
 * <p>Threading: SASL steps and admission run on the connection's event loop (requests are dispatched in order
 * there); {@link #principal} may be read from any thread.
 */
public final class Session {
    private enum State { NEW, HANDSHAKEN, AUTHENTICATED, FAILED }

    /** What a SaslAuthenticate step answers. */
    public record Step(ErrorCode error, String message, byte[] bytes, long sessionLifetimeMs) {
    }

    private static final byte[] NO_BYTES = new byte[0];

    private final Sessions owner;
    private final InetAddress clientAddress;
    private volatile KafkaPrincipal principal;
    private State state;
    private String mechanism;
    private SaslExchange exchange;
    private long expiresAtNanos;
    private boolean expires;
    private boolean closeAfterResponse;
    /** After a SaslHandshake v0: the exchange's tokens come as bare size-prefixed frames, not SaslAuthenticate. */
    private boolean rawTokens;

    /** A session that is authenticated from the start (PLAINTEXT, SSL); {@code owner} null for no listener. */
    Session(Sessions owner, KafkaPrincipal principal, InetAddress clientAddress) {
        this.owner = owner;
        this.clientAddress = clientAddress;
        this.principal = principal;
        this.state = State.AUTHENTICATED;
    }

    /** A SASL session, not yet authenticated. */
    Session(Sessions owner, InetAddress clientAddress) {
        this.owner = owner;
        this.clientAddress = clientAddress;
        this.state = State.NEW;
    }

    /** For requests made without a connection (tests): authenticated as ANONYMOUS. */
    public static Session anonymous() {
        return new Session(null, KafkaPrincipal.ANONYMOUS, null);
    }

    static InetAddress address(InetSocketAddress remote) {
        return remote == null ? null : remote.getAddress();
    }

    /** The listener the connection came in through; null for requests without one (tests). */
    public Listener listener() {
        return owner == null ? null : owner.listener();
    }

    private boolean sasl() {
        return owner != null && owner.listener().protocol().sasl;
    }

    /** The authenticated principal; null before authentication. */
    public KafkaPrincipal principal() {
        return principal;
    }

    /** The client's address (ACL host matching), or null when unknown. */
    public InetAddress clientAddress() {
        return clientAddress;
    }

    /** Whether a request of {@code api} may be handled now; if not, the connection closes. */
    public boolean admits(ApiKey api) {
        if (state == State.FAILED) {
            return false;
        }
        if (api == ApiKey.API_VERSIONS || api == ApiKey.SASL_HANDSHAKE || api == ApiKey.SASL_AUTHENTICATE) {
            return true;
        }
        return principal != null && !(expires && System.nanoTime() - expiresAtNanos >= 0);
    }

    /** Why {@link #admits} said no, for the log line of the close. */
    public String refusal(ApiKey api) {
        if (state == State.FAILED) {
            return api.title + " after a failed authentication";
        }
        return principal == null ? api.title + " before authentication" : api.title + " after the SASL session expired";
    }

    /** True once a step failed: the response being sent is the connection's last. */
    public boolean closeAfterResponse() {
        return closeAfterResponse;
    }

    /**
     * True while the next frame is a bare SASL token: after a SaslHandshake v0 (clients from before KIP-152),
     * until the exchange completes.
     */
    public boolean expectsRawToken() {
        return rawTokens && state == State.HANDSHAKEN;
    }

    /** SaslHandshake at {@code version}: chooses the mechanism; v0 switches to bare tokens. */
    public ErrorCode handshake(String requested, short version) {
        ErrorCode error = handshake(requested);
        rawTokens = error == ErrorCode.NONE && version == 0;
        return error;
    }

    /** SaslHandshake: chooses the mechanism. */
    public ErrorCode handshake(String requested) {
        if (!sasl()) {
            return ErrorCode.ILLEGAL_SASL_STATE; // not a SASL listener: as Kafka answers there
        }
        if (state == State.HANDSHAKEN || state == State.FAILED) {
            return fail(ErrorCode.ILLEGAL_SASL_STATE);
        }
        if (state == State.AUTHENTICATED && !requested.equals(mechanism)) {
            return fail(ErrorCode.UNSUPPORTED_SASL_MECHANISM); // re-authentication keeps the mechanism
        }
        SaslExchange next = owner.exchange(requested);
        if (next == null) {
            return fail(ErrorCode.UNSUPPORTED_SASL_MECHANISM);
        }
        mechanism = requested;
        exchange = next;
        state = State.HANDSHAKEN;
        return ErrorCode.NONE;
    }

    /** The mechanisms the listener offers (SaslHandshake's answer). */
    public java.util.List<String> mechanisms() {
        return owner == null ? java.util.List.of() : owner.listener().mechanisms();
    }

    /** SaslAuthenticate: one token of the exchange the handshake chose. */
    public Step authenticate(byte[] token) {
        if (!sasl() || state != State.HANDSHAKEN) {
            fail(ErrorCode.ILLEGAL_SASL_STATE);
            return new Step(ErrorCode.ILLEGAL_SASL_STATE, "SaslAuthenticate is not expected now", NO_BYTES, 0);
        }
        byte[] answer;
        try {
            answer = exchange.evaluate(token);
        } catch (AuthenticationFailure e) {
            fail(ErrorCode.SASL_AUTHENTICATION_FAILED);
            owner.failed();
            return new Step(ErrorCode.SASL_AUTHENTICATION_FAILED, e.getMessage(), NO_BYTES, 0);
        }
        String user = exchange.authenticatedUser();
        if (user == null) {
            return new Step(ErrorCode.NONE, null, answer, 0); // more steps to come
        }
        KafkaPrincipal authenticated = KafkaPrincipal.user(user);
        KafkaPrincipal previous = principal;
        if (previous != null && !previous.equals(authenticated)) {
            fail(ErrorCode.SASL_AUTHENTICATION_FAILED);
            owner.failed();
            return new Step(ErrorCode.SASL_AUTHENTICATION_FAILED, "Cannot change principals during re-authentication from "
                    + previous + " to " + authenticated, NO_BYTES, 0);
        }
        if (previous != null) {
            owner.reauthenticated();
        }
        principal = authenticated;
        exchange = null;
        state = State.AUTHENTICATED;
        long lifetime = owner.listener().reauthMs();
        expires = lifetime > 0;
        expiresAtNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(lifetime);
        return new Step(ErrorCode.NONE, null, answer, lifetime);
    }

    private ErrorCode fail(ErrorCode error) {
        state = State.FAILED;
        exchange = null;
        closeAfterResponse = true;
        return error;
    }
}
