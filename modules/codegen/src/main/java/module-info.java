/** Build-time generator: reads Kafka's JSON message specs and writes the protocol module's Java sources. */
module kiri.codegen {
    requires com.fasterxml.jackson.databind;
}
