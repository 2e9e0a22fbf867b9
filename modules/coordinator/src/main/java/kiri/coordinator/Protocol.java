package kiri.coordinator;

import java.util.Objects;

/** One assignment protocol a member supports (JoinGroup), with its opaque metadata; the array is not mutated. */
public record Protocol(String name, byte[] metadata) {
    public Protocol {
        Objects.requireNonNull(name, "name");
        if (metadata == null) metadata = new byte[0];
    }
}
