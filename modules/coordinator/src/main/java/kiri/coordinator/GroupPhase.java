package kiri.coordinator;

/** The classic group states, with the names Kafka reports (DescribeGroups, ListGroups). */
enum GroupPhase {
    EMPTY("Empty"),
    PREPARING_REBALANCE("PreparingRebalance"),
    COMPLETING_REBALANCE("CompletingRebalance"),
    STABLE("Stable"),
    DEAD("Dead");

    final String kafkaName;

    GroupPhase(String kafkaName) {
        this.kafkaName = kafkaName;
    }

    static GroupPhase of(String kafkaName) {
        for (GroupPhase p : values()) {
            if (p.kafkaName.equals(kafkaName)) return p;
        }
        return EMPTY;
    }
}
