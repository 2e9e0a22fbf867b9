package kiri.router.security;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.function.BiFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import kiri.storage.api.ScramCredential;

/**
 * The server side of SCRAM (RFC 5802): client-first, server-first, client-final, server-final, as Kafka's
 * ScramSaslServer runs it. Strict where Kafka 4.1 is: the final message must repeat exactly the combined nonce
 * (librdkafka before 2.7 repeats the client nonce in front of it and is refused, as by Kafka), the channel
 * binding must be the GS2 header the client sent, and a proof that does not verify fails the exchange for good.
 */
public final class ScramExchange implements SaslExchange {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Pattern CLIENT_FIRST =
            Pattern.compile("n,(a=(?<authzid>[^,]*))?,(?<bare>n=(?<saslname>[^,]*),r=(?<nonce>[^,]+)(?<extensions>.*))");
    private static final Pattern CLIENT_FINAL =
            Pattern.compile("(?<withoutProof>c=(?<channel>[^,]*),r=(?<nonce>[^,]*)(?<extensions>.*)),p=(?<proof>[^,]*)");

    private enum Step { FIRST, FINAL, DONE, FAILED }

    private final ScramMechanism mechanism;
    private final BiFunction<String, ScramMechanism, ScramCredential> credentials;
    private Step step = Step.FIRST;
    private String gs2Header;
    private String clientFirstBare;
    private String serverFirst;
    private String nonce;
    private ScramCredential credential;
    private String user;

    /** {@code credentials} finds a user's credential for a mechanism, or null. */
    public ScramExchange(ScramMechanism mechanism, BiFunction<String, ScramMechanism, ScramCredential> credentials) {
        this.mechanism = mechanism;
        this.credentials = credentials;
    }

    @Override
    public byte[] evaluate(byte[] token) throws AuthenticationFailure {
        Step current = step;
        step = Step.FAILED; // unless this step succeeds
        byte[] answer = switch (current) {
            case FIRST -> first(new String(token, StandardCharsets.UTF_8));
            case FINAL -> last(new String(token, StandardCharsets.UTF_8));
            case DONE, FAILED -> throw new AuthenticationFailure("SCRAM exchange is over");
        };
        step = current == Step.FIRST ? Step.FINAL : Step.DONE;
        return answer;
    }

    private byte[] first(String message) throws AuthenticationFailure {
        Matcher m = CLIENT_FIRST.matcher(message);
        if (!m.matches()) {
            throw new AuthenticationFailure("Invalid SCRAM client first message format");
        }
        String username = saslName(m.group("saslname"));
        String authzid = m.group("authzid");
        if (authzid != null && !authzid.isEmpty() && !saslName(authzid).equals(username)) {
            throw new AuthenticationFailure("Authentication failed: Client requested an authorization id that is"
                    + " different from username");
        }
        if (m.group("extensions").contains(",tokenauth=true")) {
            throw new AuthenticationFailure("Authentication failed: delegation tokens are not supported");
        }
        credential = credentials.apply(username, mechanism);
        if (credential == null) {
            throw new AuthenticationFailure("Authentication failed: Invalid user credentials");
        }
        gs2Header = message.substring(0, message.length() - m.group("bare").length());
        clientFirstBare = m.group("bare");
        byte[] serverNonce = new byte[24];
        RANDOM.nextBytes(serverNonce);
        nonce = m.group("nonce") + Base64.getEncoder().encodeToString(serverNonce);
        serverFirst = "r=" + nonce + ",s=" + Base64.getEncoder().encodeToString(credential.salt())
                + ",i=" + credential.iterations();
        user = username;
        return ScramMechanism.bytes(serverFirst);
    }

    private byte[] last(String message) throws AuthenticationFailure {
        Matcher m = CLIENT_FINAL.matcher(message);
        if (!m.matches()) {
            throw new AuthenticationFailure("Invalid SCRAM client final message format");
        }
        if (!m.group("nonce").equals(nonce)) {
            throw new AuthenticationFailure("Invalid SCRAM client final message: the nonce is not the server's");
        }
        byte[] channel;
        byte[] proof;
        try {
            channel = Base64.getDecoder().decode(m.group("channel"));
            proof = Base64.getDecoder().decode(m.group("proof"));
        } catch (IllegalArgumentException e) {
            throw new AuthenticationFailure("Invalid SCRAM client final message: bad base64");
        }
        if (!MessageDigest.isEqual(channel, ScramMechanism.bytes(gs2Header))) {
            throw new AuthenticationFailure("Invalid SCRAM client final message: wrong channel binding");
        }
        byte[] authMessage = ScramMechanism.bytes(clientFirstBare + "," + serverFirst + "," + m.group("withoutProof"));
        byte[] clientSignature = mechanism.hmac(credential.storedKey(), authMessage);
        if (proof.length != clientSignature.length
                || !MessageDigest.isEqual(mechanism.hash(ScramMechanism.xor(proof, clientSignature)), credential.storedKey())) {
            throw new AuthenticationFailure("Authentication failed: Invalid user credentials");
        }
        byte[] serverSignature = mechanism.hmac(credential.serverKey(), authMessage);
        String serverFinal = "v=" + Base64.getEncoder().encodeToString(serverSignature);
        return ScramMechanism.bytes(serverFinal);
    }

    /** RFC 5802's saslname: "=2C" is a comma, "=3D" an equals sign, any other '=' is an error. */
    private static String saslName(String s) throws AuthenticationFailure {
        String decoded = s.replace("=2C", ",").replace("=3D", "=");
        if (s.replace("=2C", "").replace("=3D", "").indexOf('=') >= 0) {
            throw new AuthenticationFailure("Invalid SCRAM username encoding");
        }
        return decoded;
    }

    @Override
    public String authenticatedUser() {
        return step == Step.DONE ? user : null;
    }
}
