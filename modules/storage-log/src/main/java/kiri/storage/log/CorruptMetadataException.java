package kiri.storage.log;

import java.util.zip.CRC32C;

/**
 * A metadata file that cannot be decoded: where decoding failed and why, or a format version this Kiri does not read.
 * The message is a predicate ("is corrupt at byte 12 (checksum mismatch)"): {@link MetaFiles}, the one place that
 * reports it, puts the file's name in front.
 */
final class CorruptMetadataException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CorruptMetadataException(long position, String reason) {
        super("is corrupt at byte " + position + " (" + reason + ")");
    }

    private CorruptMetadataException(String message) {
        super(message);
    }

    /** The first four bytes name a version outside {@code [oldest, newest]}: a newer Kiri wrote it, or they are damaged. */
    static CorruptMetadataException unknownVersion(int version, int oldest, int newest) {
        return new CorruptMetadataException("has metadata format version " + version + ", which is not supported (this Kiri reads versions "
                + oldest + " to " + newest + "; was the directory written by a newer Kiri, or is the file damaged?)");
    }

    /** A well-formed file of the current format whose record is newer than this Kiri's spec of it. */
    static CorruptMetadataException unknownRecordVersion(String record, int version, int highest) {
        return new CorruptMetadataException("holds a " + record + " of version " + version + ", which this Kiri does not read (it reads versions 0 to "
                + highest + "; was the directory written by a newer Kiri?)");
    }

    /** The checksum closing a metadata file, over its first {@code length} bytes. */
    static int crc(byte[] bytes, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, length);
        return (int) crc.getValue();
    }
}
