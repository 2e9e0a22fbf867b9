/**
 * The Kafka wire protocol: generated request/response/header/data messages, the api key table,
 * error codes, and the record-batch v2 flyweight. Pure: no I/O, no threads.
 */
module kiri.protocol {
    exports kiri.protocol;
    exports kiri.protocol.message;
    exports kiri.protocol.record;
}
