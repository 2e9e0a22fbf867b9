package kiri.protocol;

import java.lang.foreign.MemorySegment;
import java.util.function.LongFunction;
import kiri.protocol.message.ApiKey;
import kiri.protocol.message.RequestHeader;
import kiri.protocol.message.ResponseHeader;

/**
 * Whole Kafka frames: a request or response header followed by its body. Frames here exclude the
 * 4-byte size prefix on input; {@link #encodeResponse} and {@link #encodeRequest} write it.
 */
public final class Frames {
    private Frames() {
    }

    /** A decoded request: its header, API and body (bytes/records fields are views of the frame). */
    public record Request(RequestHeader header, ApiKey api, ApiMessage body) {
        public short version() {
            return header.requestApiVersion();
        }
    }

    /**
     * The API a request frame is for, from its first two bytes, or null for an api key this codec
     * doesn't know. Throws {@link ProtocolException} if the frame is too short to say.
     */
    public static ApiKey peekApi(MemorySegment frame) {
        WireReader r = new WireReader(frame);
        return ApiKey.forId(r.readInt16());
    }

    /** Decodes a request's header; the reader is left at the start of the body. */
    public static RequestHeader readRequestHeader(WireReader r) {
        long start = r.position();
        short apiKey = r.readInt16();
        short version = r.readInt16();
        ApiKey api = ApiKey.forId(apiKey);
        if (api == null) {
            throw new ProtocolException("unknown api key " + apiKey + " at offset " + start);
        }
        r.position(start);
        // Versions a broker does not support still have a readable header: the version only picks the header
        // version, and an unknown-but-newer version is read with the newest header so an error can be answered.
        short headerVersion = api.requestHeaderVersion(version > api.highestVersion ? api.highestVersion : version);
        return RequestHeader.read(r, headerVersion);
    }

    /** Decodes a whole request frame (header and body); the body must fill the rest of the frame. */
    public static Request readRequest(MemorySegment frame) {
        WireReader r = new WireReader(frame);
        RequestHeader header = readRequestHeader(r);
        ApiKey api = ApiKey.forId(header.requestApiKey());
        ApiMessage body = api.readRequest(r, header.requestApiVersion());
        requireConsumed(r, api.title + " request");
        return new Request(header, api, body);
    }

    /** Decodes a response frame's body for a request sent at {@code version}; returns the body. */
    public static ApiMessage readResponse(MemorySegment frame, ApiKey api, short version, int expectedCorrelationId) {
        WireReader r = new WireReader(frame);
        ResponseHeader header = ResponseHeader.read(r, api.responseHeaderVersion(version));
        if (header.correlationId() != expectedCorrelationId) {
            throw new ProtocolException("response correlation id " + header.correlationId() + ", expected "
                    + expectedCorrelationId);
        }
        ApiMessage body = api.readResponse(r, version);
        requireConsumed(r, api.title + " response");
        return body;
    }

    private static void requireConsumed(WireReader r, String what) {
        if (r.remaining() != 0) {
            throw new ProtocolException(what + " has " + r.remaining() + " unread bytes at offset " + r.position());
        }
    }

    /**
     * Encodes a response frame with its 4-byte size prefix into a segment from {@code allocate}
     * (asked for exactly the frame's size): size first, then one write.
     */
    public static MemorySegment encodeResponse(int correlationId, ApiKey api, short version, ApiMessage body,
            LongFunction<MemorySegment> allocate) {
        return encodeResponse(correlationId, api, version, body, allocate, 0, null);
    }

    /**
     * Encodes a response frame like {@link #encodeResponse(int, ApiKey, short, ApiMessage, LongFunction)}
     * but through {@code splicer}, which leaves exactly {@code splicedBytes} of the frame out of the
     * output: the segment from {@code allocate} is that much shorter than the size prefix says, and
     * the splicer knows where the missing bytes go.
     */
    public static MemorySegment encodeResponse(int correlationId, ApiKey api, short version, ApiMessage body,
            LongFunction<MemorySegment> allocate, long splicedBytes, WireWriter.Splicer splicer) {
        ResponseHeader header = new ResponseHeader().setCorrelationId(correlationId);
        return encode(header, api.responseHeaderVersion(version), body, version, allocate, splicedBytes, splicer);
    }

    /** Encodes a request frame with its 4-byte size prefix; the header names api, version and correlation id. */
    public static MemorySegment encodeRequest(RequestHeader header, ApiMessage body, LongFunction<MemorySegment> allocate) {
        return encodeRequest(header, body, allocate, 0, null);
    }

    /** Encodes a request frame through {@code splicer}, as the splicing {@code encodeResponse} does for responses. */
    public static MemorySegment encodeRequest(RequestHeader header, ApiMessage body, LongFunction<MemorySegment> allocate,
            long splicedBytes, WireWriter.Splicer splicer) {
        ApiKey api = ApiKey.forId(header.requestApiKey());
        if (api == null) {
            throw new ProtocolException("unknown api key " + header.requestApiKey());
        }
        short version = header.requestApiVersion();
        return encode(header, api.requestHeaderVersion(version), body, version, allocate, splicedBytes, splicer);
    }

    private static MemorySegment encode(Message header, short headerVersion, ApiMessage body, short version,
            LongFunction<MemorySegment> allocate, long splicedBytes, WireWriter.Splicer splicer) {
        int size = header.size(headerVersion) + body.size(version);
        if (splicedBytes < 0 || splicedBytes > size) {
            throw new IllegalArgumentException(splicedBytes + " spliced bytes in a " + size + "-byte frame");
        }
        MemorySegment out = allocate.apply(4L + size - splicedBytes);
        WireWriter w = new WireWriter(out, 0, splicer);
        w.writeInt32(size);
        header.write(w, headerVersion);
        body.write(w, version);
        if (w.position() != out.byteSize()) {
            throw new IllegalStateException("spliced encoding wrote " + w.position() + " of " + out.byteSize() + " bytes");
        }
        return out;
    }
}
