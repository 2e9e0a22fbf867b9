package kiri.storage.log;

import java.util.zip.CRC32C;

/** A metadata file that cannot be decoded: where decoding failed and why. {@link MetaFiles} adds the file's name. */
final class CorruptMetadataException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    final long position;
    final String reason;

    CorruptMetadataException(long position, String reason) {
        super("corrupt at byte " + position + " (" + reason + ")");
        this.position = position;
        this.reason = reason;
    }

    /** The checksum closing a metadata file, over its first {@code length} bytes. */
    static int crc(byte[] bytes, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, length);
        return (int) crc.getValue();
    }
}
