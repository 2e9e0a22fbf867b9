package kiri.storage.contract;

/**
 * The storage contract suite: every engine's test extends this and supplies a {@link ContractEngine}.
 * The areas are one class each, chained ({@link TopicsContract}, {@link RecordsContract},
 * {@link ListOffsetsContract}, {@link RetentionContract}, {@link IdempotenceContract},
 * {@link TransactionsContract}, {@link WakeUpContract}, {@link GroupsContract}, {@link ReopenContract}),
 * so one concrete class runs them all:
 *
 * <pre>{@code
 * class MemoryContractTest extends StorageContract {
 *     protected ContractEngine newEngine() {
 *         return context -> new MemoryStorageProvider().open(StorageUrl.parse("memory://"), context);  // + gaps()
 *     }
 * }
 * }</pre>
 *
 * Tests observe the engine as Kafka clients would (kafka-clients parses every fetched batch) and skip,
 * with the engine's reason, only what {@link ContractEngine#gaps()} declares missing.
 */
public abstract class StorageContract extends ReopenContract {
}
