package kiri.launcher;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Socket;
import java.net.SocketException;
import kiri.protocol.ApiMessage;
import kiri.protocol.Frames;
import kiri.protocol.message.ApiKey;
import kiri.protocol.message.RequestHeader;

/** A blocking test connection that sends one Kiri-encoded request at a time and reads its response. */
final class RawKafkaConnection implements AutoCloseable {
    private final Socket socket;
    private final DataInputStream in;
    private int correlation;

    RawKafkaConnection(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(30_000);
        in = new DataInputStream(socket.getInputStream());
    }

    /** The response, or null when the broker closed the connection instead. */
    ApiMessage call(ApiKey api, short version, ApiMessage request) throws IOException {
        int id = ++correlation;
        RequestHeader header = new RequestHeader().setRequestApiKey(api.id).setRequestApiVersion(version)
                .setCorrelationId(id).setClientId("raw");
        MemorySegment frame = Frames.encodeRequest(header, request, n -> MemorySegment.ofArray(new byte[(int) n]));
        try {
            socket.getOutputStream().write(frame.toArray(ValueLayout.JAVA_BYTE));
            byte[] response = new byte[in.readInt()];
            in.readFully(response);
            return Frames.readResponse(MemorySegment.ofArray(response), api, version, id);
        } catch (EOFException | SocketException e) {
            return null;
        }
    }

    /** Sends a bare size-prefixed SASL token (after SaslHandshake v0); the answer, or null when closed. */
    byte[] rawToken(byte[] token) throws IOException {
        try {
            java.io.DataOutputStream out = new java.io.DataOutputStream(socket.getOutputStream());
            out.writeInt(token.length);
            out.write(token);
            out.flush();
            byte[] response = new byte[in.readInt()];
            in.readFully(response);
            return response;
        } catch (EOFException | SocketException e) {
            return null;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
