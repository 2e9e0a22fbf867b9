package kiri.proxy;

import static kiri.protocol.BigEndian.SHORT;

import java.lang.foreign.MemorySegment;
import kiri.protocol.WireReader;
import kiri.protocol.message.ApiKey;

/** The few request fields the proxy reads; everything else passes through undecoded. */
final class Requests {
    /** api key, api version, correlation id: the part of a request header every version has. */
    static final int MIN_HEADER = 8;

    private Requests() {
    }

    static short apiKey(MemorySegment frame) {
        return frame.get(SHORT, 0);
    }

    static short apiVersion(MemorySegment frame) {
        return frame.get(SHORT, 2);
    }

    /**
     * Whether the broker answers this request: everything but Produce with acks=0. Reads the
     * Produce request header and the body up to {@code acks} (after the transactional id from v3);
     * throws {@link kiri.protocol.ProtocolException} on a truncated frame.
     */
    static boolean expectsResponse(MemorySegment frame) {
        if (apiKey(frame) != ApiKey.PRODUCE.id) {
            return true;
        }
        short version = apiVersion(frame);
        boolean flexible = ApiKey.PRODUCE.isFlexible(version);
        WireReader r = new WireReader(frame);
        r.skip(MIN_HEADER);
        int clientIdLength = r.readInt16(); // never compact, even in flexible headers
        if (clientIdLength > 0) {
            r.skip(clientIdLength);
        }
        if (flexible) {
            skipTaggedFields(r);
        }
        if (version >= 3) {
            int transactionalIdLength = flexible ? r.readUnsignedVarint() - 1 : r.readInt16();
            if (transactionalIdLength > 0) {
                r.skip(transactionalIdLength);
            }
        }
        return r.readInt16() != 0;
    }

    private static void skipTaggedFields(WireReader r) {
        int count = r.readUnsignedVarint();
        for (int i = 0; i < count; i++) {
            r.readUnsignedVarint(); // tag
            r.skip(r.readUnsignedVarint());
        }
    }
}
