package kiri.storage.api;

import java.util.Objects;
import kiri.protocol.ErrorCode;

/** One IncrementalAlterConfigs operation on a topic config. {@code value} is null for DELETE. */
public record ConfigOp(String name, Type type, String value) {
    public ConfigOp {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
    }

    public static ConfigOp set(String name, String value) {
        return new ConfigOp(name, Type.SET, value);
    }

    public static ConfigOp delete(String name) {
        return new ConfigOp(name, Type.DELETE, null);
    }

    /** Kafka's {@code AlterConfigOp.OpType}, with its wire codes. */
    public enum Type {
        SET(0), DELETE(1), APPEND(2), SUBTRACT(3);

        private final byte code;

        Type(int code) {
            this.code = (byte) code;
        }

        public byte code() {
            return code;
        }

        /** @throws StorageException INVALID_REQUEST for an unknown code */
        public static Type fromCode(byte code) {
            return switch (code) {
                case 0 -> SET;
                case 1 -> DELETE;
                case 2 -> APPEND;
                case 3 -> SUBTRACT;
                default -> throw new StorageException(ErrorCode.INVALID_REQUEST, "Unknown config operation type " + code);
            };
        }
    }
}
