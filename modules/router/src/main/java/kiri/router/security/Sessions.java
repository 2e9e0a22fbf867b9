package kiri.router.security;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import kiri.transport.ConnectionContext;

/**
 * The {@link Session}s of one listener's connections. A listener without SASL gets sessions that are
 * authenticated from the start (ANONYMOUS on PLAINTEXT); a SASL listener keeps one session per connection
 * from its first request until it closes.
 *
 * <p>Threading: any thread; a connection's session is created and used on its event loop.
 */
public final class Sessions {
    private final Listener listener;
    private final SecurityStore store;
    private final Map<ConnectionContext, Session> open = new ConcurrentHashMap<>();
    private final LongAdder failures = new LongAdder();
    private final LongAdder reauthentications = new LongAdder();

    /** {@code store} holds the SCRAM credentials (may be null when the listener offers no SCRAM mechanism). */
    public Sessions(Listener listener, SecurityStore store) {
        this.listener = listener;
        this.store = store;
    }

    /** Sessions of a PLAINTEXT listener advertising {@code host:port}: everyone is ANONYMOUS. */
    public static Sessions plaintext(String host, int port) {
        return new Sessions(Listener.plaintext(host, port), null);
    }

    public Listener listener() {
        return listener;
    }

    /** The session of {@code connection}, created at its first request. */
    public Session session(ConnectionContext connection) {
        return open.computeIfAbsent(connection, this::newSession);
    }

    private Session newSession(ConnectionContext c) {
        if (listener.protocol().sasl) {
            return new Session(this, Session.address(c.remoteAddress()));
        }
        KafkaPrincipal who = listener.protocol().tls ? certificatePrincipal(c.tlsSession()) : KafkaPrincipal.ANONYMOUS;
        return new Session(this, who, Session.address(c.remoteAddress()));
    }

    /**
     * As Kafka's default principal builder on an SSL listener: {@code User:} and the client certificate's subject
     * in RFC 2253 form ({@code User:CN=client,O=Example}); ANONYMOUS without a client certificate.
     */
    static KafkaPrincipal certificatePrincipal(javax.net.ssl.SSLSession tls) {
        if (tls == null) {
            return KafkaPrincipal.ANONYMOUS;
        }
        try {
            return KafkaPrincipal.user(tls.getPeerPrincipal().getName());
        } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
            return KafkaPrincipal.ANONYMOUS;
        }
    }

    /** Forgets a closed connection's session. */
    public void closed(ConnectionContext connection) {
        open.remove(connection);
    }

    /** Authentications that failed on this listener since it started. */
    public long failedAuthentications() {
        return failures.sum();
    }

    void failed() {
        failures.increment();
    }

    /** KIP-368 re-authentications that succeeded on this listener (a live connection renewing its session). */
    public long reauthentications() {
        return reauthentications.sum();
    }

    void reauthenticated() {
        reauthentications.increment();
    }

    /** A new exchange for {@code mechanism}, or null if the listener does not offer it. */
    SaslExchange exchange(String mechanism) {
        if (!listener.mechanisms().contains(mechanism)) {
            return null;
        }
        if (mechanism.equals("PLAIN")) {
            return new PlainExchange(listener.plainUsers());
        }
        ScramMechanism scram = ScramMechanism.forName(mechanism);
        return scram == null || store == null ? null : new ScramExchange(scram, store::credential);
    }
}
