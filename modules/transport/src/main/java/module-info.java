/** Sockets, length-prefixed frames in pooled off-heap segments, pipelining and back-pressure. */
module kiri.transport {
}
