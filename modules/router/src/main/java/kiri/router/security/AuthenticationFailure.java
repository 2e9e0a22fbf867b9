package kiri.router.security;

/** A SASL exchange failed; the message is what the client is told (never whether the user exists). */
public final class AuthenticationFailure extends Exception {
    public AuthenticationFailure(String message) {
        super(message, null, false, false);
    }
}
