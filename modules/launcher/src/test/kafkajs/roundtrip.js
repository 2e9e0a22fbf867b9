// kafkajs against a Kafka-compatible broker, as a user would drive it: admin, an idempotent producer
// (plain and gzip-compressed batches), a consumer group that commits, and transactions read with
// read_committed; configs altered with the legacy AlterConfigs. Run by kiri.launcher.KafkajsTest: `node roundtrip.js HOST:PORT`; exits non-zero on
// the first failed check, printing what differed.
'use strict';
const { Kafka, logLevel, CompressionTypes, ConfigResourceTypes } = require('kafkajs');

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const bootstrap = process.argv[2];
const kafka = new Kafka({ clientId: 'kiri-kafkajs', brokers: [bootstrap], logLevel: logLevel.ERROR });
const N = 1000;

function check(condition, message) {
  if (!condition) throw new Error('check failed: ' + message);
}

/** Consumes `topic` from the beginning in group `groupId` until `count` messages arrived. */
async function consume(groupId, topic, count, options = {}) {
  const consumer = kafka.consumer({ groupId, ...options });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${topic}: consumed ${got.length} of ${count}`)), 30000);
    consumer.run({
      eachMessage: async ({ partition, message }) => {
        got.push({ partition, offset: Number(message.offset), key: message.key && message.key.toString(),
          value: message.value.toString(), headers: message.headers });
        if (got.length >= count) { clearTimeout(timer); resolve(); }
      },
    });
  });
  await consumer.disconnect();
  return got;
}

async function main() {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'js-topic', numPartitions: 3 }, { topic: 'js-gzip', numPartitions: 1 },
    { topic: 'js-txn', numPartitions: 1 }], waitForLeaders: true });
  const topics = await admin.listTopics();
  for (const t of ['js-topic', 'js-gzip', 'js-txn']) check(topics.includes(t), `listTopics has ${t}: ${topics}`);
  const meta = await admin.fetchTopicMetadata({ topics: ['js-topic'] });
  check(meta.topics[0].partitions.length === 3, 'js-topic has 3 partitions');

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const messages = [];
  for (let i = 0; i < N; i++) messages.push({ key: 'key-' + (i % 17), value: 'value-' + i, headers: { h: 'header-' + i } });
  for (let i = 0; i < N; i += 100) await producer.send({ topic: 'js-topic', messages: messages.slice(i, i + 100) });
  await producer.send({ topic: 'js-gzip', compression: CompressionTypes.GZIP, messages: messages.slice(0, 100) });
  await producer.disconnect();

  const offsets = await admin.fetchTopicOffsets('js-topic');
  const total = offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0);
  check(total === N, `js-topic offsets add up to ${N}: ${JSON.stringify(offsets)}`);

  const got = await consume('js-group', 'js-topic', N);
  const byValue = new Map(got.map((m) => [m.value, m]));
  check(byValue.size === N, `${N} distinct messages, got ${byValue.size}`);
  for (let i = 0; i < N; i++) {
    const m = byValue.get('value-' + i);
    check(m && m.key === 'key-' + (i % 17) && m.headers.h.toString() === 'header-' + i, `message ${i}: ${JSON.stringify(m)}`);
  }
  const committed = await admin.fetchOffsets({ groupId: 'js-group', topics: ['js-topic'] });
  const committedTotal = committed[0].partitions.reduce((sum, p) => sum + Number(p.offset), 0);
  check(committedTotal === N, `js-group committed ${N} in all: ${JSON.stringify(committed)}`);

  const gz = await consume('js-gzip-group', 'js-gzip', 100);
  check(gz.map((m) => m.value).join() === messages.slice(0, 100).map((m) => m.value).join(), 'gzip batch reads back in order');

  const tp = kafka.producer({ transactionalId: 'js-tx', idempotent: true, maxInFlightRequests: 1 });
  await tp.connect();
  let tx = await tp.transaction();
  await tx.send({ topic: 'js-txn', messages: [{ value: 'aborted-1' }, { value: 'aborted-2' }] });
  await tx.abort();
  tx = await tp.transaction();
  await tx.send({ topic: 'js-txn', messages: [{ value: 'committed-1' }, { value: 'committed-2' }] });
  await tx.commit();
  await tp.disconnect();
  const txn = await consume('js-txn-group', 'js-txn', 2, { readUncommitted: false });
  check(txn.map((m) => m.value).join() === 'committed-1,committed-2', 'read_committed sees only the committed: ' + JSON.stringify(txn));

  // kafkajs alters configs with the legacy AlterConfigs (replace every override of the topic)
  const retention = async () => (await admin.describeConfigs({ includeSynonyms: false, resources: [
    { type: ConfigResourceTypes.TOPIC, name: 'js-topic', configNames: ['retention.ms'] }] }))
    .resources[0].configEntries[0].configValue;
  check(await retention() === '604800000', 'retention.ms starts at the default');
  await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'js-topic',
    configEntries: [{ name: 'retention.ms', value: '3600000' }] }] });
  check(await retention() === '3600000', 'alterConfigs set retention.ms');

  await admin.deleteTopics({ topics: ['js-gzip'] });
  check(!(await admin.listTopics()).includes('js-gzip'), 'js-gzip deleted');
  await admin.disconnect();
  console.log(`kafkajs OK: ${N} messages over 3 partitions, group commits, gzip, transactions, alterConfigs`);
}

main().catch((e) => {
  console.error('kafkajs FAILED: ' + (e && e.stack || e));
  process.exit(1);
});
