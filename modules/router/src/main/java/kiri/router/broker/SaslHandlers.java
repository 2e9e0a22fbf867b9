package kiri.router.broker;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CompletableFuture;
import kiri.protocol.ErrorCode;
import kiri.protocol.message.SaslAuthenticateRequest;
import kiri.protocol.message.SaslAuthenticateResponse;
import kiri.protocol.message.SaslHandshakeRequest;
import kiri.protocol.message.SaslHandshakeResponse;
import kiri.router.Handler;
import kiri.router.security.Session;

/**
 * SaslHandshake and SaslAuthenticate: the connection's {@link Session} runs the exchange; these only translate.
 * Both complete synchronously, so a failure is recorded before the connection's next request is admitted.
 */
final class SaslHandlers {
    private SaslHandlers() {
    }

    static Handler handshake() {
        return (context, message) -> {
            SaslHandshakeRequest request = (SaslHandshakeRequest) message;
            Session session = context.session();
            ErrorCode error = session.handshake(request.mechanism(), context.version());
            return CompletableFuture.completedFuture(new SaslHandshakeResponse().setErrorCode(error.code())
                    .setMechanisms(new java.util.ArrayList<>(session.mechanisms())));
        };
    }

    static Handler authenticate() {
        return (context, message) -> {
            SaslAuthenticateRequest request = (SaslAuthenticateRequest) message;
            Session.Step step = context.session().authenticate(request.authBytes().toArray(ValueLayout.JAVA_BYTE));
            return CompletableFuture.completedFuture(new SaslAuthenticateResponse().setErrorCode(step.error().code())
                    .setErrorMessage(step.message()).setAuthBytes(MemorySegment.ofArray(step.bytes()))
                    .setSessionLifetimeMs(step.sessionLifetimeMs()));
        };
    }
}
