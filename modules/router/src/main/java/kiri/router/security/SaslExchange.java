package kiri.router.security;

/**
 * The server side of one SASL authentication on one connection: fed the client's tokens in order, answers the
 * server's. Confined to the connection's event loop; one instance per attempt.
 */
public sealed interface SaslExchange permits PlainExchange, ScramExchange {
    /** The server's answer to the client's next token. */
    byte[] evaluate(byte[] token) throws AuthenticationFailure;

    /** The authenticated user once the exchange is complete, else null. */
    String authenticatedUser();
}
