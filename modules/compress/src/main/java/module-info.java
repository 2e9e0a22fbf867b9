/**
 * Record-batch compression as Kafka frames it: gzip (java.util.zip), snappy (snappy-java's stream
 * framing), lz4 (the LZ4 frame format) and zstd, on aircompressor's pure-Java codecs. Kept out of
 * kiri.protocol so that module stays dependency-free; the client uses it, the broker does not.
 */
module kiri.compress {
    requires transitive kiri.protocol;
    requires aircompressor.v3;
    exports kiri.compress;
}
