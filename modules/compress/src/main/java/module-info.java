/**
 * Record-batch compression as Kafka frames it: gzip (java.util.zip), snappy (snappy-java's stream
 * framing), lz4 (the LZ4 frame format) and zstd, on aircompressor's pure-Java codecs. Kept out of
 * kiri.protocol so that module stays dependency-free. The client uses it to read and write
 * compressed batches; the storage engines only to find a timestamp's record inside one (ListOffsets).
 */
module kiri.compress {
    requires transitive kiri.protocol;
    requires aircompressor.v3;
    exports kiri.compress;
}
