// A current librdkafka (bundled by @confluentinc/kafka-javascript) against a broker: admin creates
// topics; an idempotent producer (snappy, lz4, gzip) writes keyed records with headers; a transactional
// producer aborts one transaction and commits another; a group consumer (read_committed) reads it all
// back and commits; a consume-transform-produce transaction commits its input offsets with
// sendOffsets. Prints "rdkafka OK: ..." on success; any error exits non-zero.
// Usage: node roundtrip.js BOOTSTRAP   (run by kiri.launcher.RdkafkaTest)
'use strict';
const kjs = require('@confluentinc/kafka-javascript');
const { Kafka } = kjs.KafkaJS;

const bootstrap = process.argv[2];
if (!bootstrap) { console.error('usage: node roundtrip.js HOST:PORT'); process.exit(2); }
const TOPIC = 'rk-topic', TXN_TOPIC = 'rk-txn', OUT_TOPIC = 'rk-out', N = 900;
const kafka = new Kafka({});
const common = { 'bootstrap.servers': bootstrap, 'log_level': 3 };
// RK_DEBUG=cgrp,protocol: librdkafka's debug contexts, logged by the consumers (to stdout).
if (process.env.RK_DEBUG) Object.assign(common, { 'debug': process.env.RK_DEBUG, 'log_level': 7 });
const check = (cond, what) => { if (!cond) throw new Error('check failed: ' + what); };
const withDeadline = (ms, what, promise) => Promise.race([promise,
  new Promise((_, reject) => setTimeout(() => reject(new Error('timed out: ' + what)), ms).unref())]);

/** Calls `read` until `done(value)` holds or 60 s pass; returns the last value. */
async function eventually(read, done) {
  let value = await read();
  for (const deadline = Date.now() + 60000; !done(value) && Date.now() < deadline; value = await read()) {
    await new Promise(resolve => setTimeout(resolve, 100));
  }
  return value;
}

/** Consumes from `topics` in group `groupId` until `until(records)` holds; returns the records. */
async function consumeAll(groupId, topics, until, extra = {}) {
  const consumer = kafka.consumer({ ...common, 'group.id': groupId, 'auto.offset.reset': 'earliest',
    'enable.auto.commit': false, 'isolation.level': 'read_committed', ...extra });
  if (process.env.RK_DEBUG) consumer.logger().setLogLevel(kjs.KafkaJS.logLevel.DEBUG);
  await consumer.connect();
  await consumer.subscribe({ topics });
  const records = [];
  let done;
  const finished = new Promise(resolve => { done = resolve; });
  consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      records.push({ topic, partition, offset: Number(message.offset), key: message.key && message.key.toString(),
        value: message.value.toString(), headers: message.headers || {} });
      if (until(records)) done();
    },
  });
  await withDeadline(90000, `group ${groupId} reading ${topics}`, finished);
  return { consumer, records };
}

async function main() {
  console.log(`librdkafka ${kjs.librdkafkaVersion}`);
  const admin = kafka.admin({ ...common });
  await admin.connect();
  await admin.createTopics({ topics: [
    { topic: TOPIC, numPartitions: 3 }, { topic: TXN_TOPIC, numPartitions: 1 }, { topic: OUT_TOPIC, numPartitions: 1 }] });

  // Idempotent producer, three codecs, murmur2 partitioning (Java's default) by key.
  for (const [codec, from] of [['snappy', 0], ['lz4', N / 3], ['gzip', 2 * N / 3]]) {
    const producer = kafka.producer({ ...common, 'enable.idempotence': true, 'compression.type': codec,
      'partitioner': 'murmur2_random', 'linger.ms': 5 });
    await producer.connect();
    const messages = [];
    for (let i = from; i < from + N / 3; i++) {
      messages.push({ key: `key-${i % 17}`, value: `value-${i}`, headers: { h: `header-${i}` } });
    }
    const reports = await producer.send({ topic: TOPIC, messages });
    check(reports.every(r => r.errorCode === 0), `${codec} delivery reports: ${JSON.stringify(reports)}`);
    await producer.disconnect();
  }

  // Transactions: one aborted, one committed.
  const txn = kafka.producer({ ...common, 'transactional.id': 'rk-txn-producer' });
  await txn.connect();
  let t = await txn.transaction();
  await t.send({ topic: TXN_TOPIC, messages: Array.from({ length: 10 }, (_, i) => ({ value: `aborted-${i}` })) });
  await t.abort();
  t = await txn.transaction();
  await t.send({ topic: TXN_TOPIC, messages: Array.from({ length: 10 }, (_, i) => ({ value: `committed-${i}` })) });
  await t.commit();

  // A group reads everything back (read_committed: no aborted record) and commits.
  const { consumer, records } = await consumeAll('rk-group', [TOPIC, TXN_TOPIC], rs => rs.length >= N + 10);
  const plain = records.filter(r => r.topic === TOPIC);
  const fromTxn = records.filter(r => r.topic === TXN_TOPIC);
  check(new Set(plain.map(r => r.value)).size === N, `${N} distinct values, got ${plain.length}`);
  for (const r of plain) {
    const i = Number(r.value.slice('value-'.length));
    check(r.key === `key-${i % 17}` && r.headers.h.toString() === `header-${i}`, `key and header of ${r.value}`);
  }
  const byKey = new Map();
  for (const r of plain) {
    check(!byKey.has(r.key) || byKey.get(r.key) === r.partition, `one partition per key (${r.key})`);
    byKey.set(r.key, r.partition);
  }
  check(fromTxn.length === 10 && fromTxn.every(r => r.value.startsWith('committed-')),
    `only committed transactional records: ${fromTxn.map(r => r.value)}`);
  // Explicit offsets: what eachMessage has seen (the store after a handler returns is asynchronous).
  const next = new Map();
  for (const r of records) {
    const tp = `${r.topic}/${r.partition}`;
    next.set(tp, Math.max(next.get(tp) || 0, r.offset + 1));
  }
  await consumer.commitOffsets([...next].map(([tp, offset]) => {
    const [topic, partition] = tp.split('/');
    return { topic, partition: Number(partition), offset: String(offset) };
  }));
  // The commit's promise can settle before the broker has answered it: wait until the offsets read back.
  const sum = await eventually(async () => (await admin.fetchOffsets({ groupId: 'rk-group', topics: [TOPIC] }))
    .flatMap(t => t.partitions).reduce((a, p) => a + Number(p.offset), 0), v => v === N);
  check(sum === N, `committed offsets of ${TOPIC} sum to ${N}, got ${sum}`);
  await consumer.disconnect();

  // Consume-transform-produce: the input offsets commit with the output, in one transaction.
  const ctp = await consumeAll('rk-eos', [TXN_TOPIC], rs => rs.length >= 10);
  ctp.consumer.pause([{ topic: TXN_TOPIC }]);
  t = await txn.transaction();
  await t.send({ topic: OUT_TOPIC, messages: ctp.records.map(r => ({ value: r.value.toUpperCase() })) });
  const last = Math.max(...ctp.records.map(r => r.offset));
  await t.sendOffsets({ consumer: ctp.consumer, topics: [{ topic: TXN_TOPIC, partitions: [{ partition: 0, offset: String(last + 1) }] }] });
  await t.commit();
  await ctp.consumer.disconnect();
  await txn.disconnect();
  const eosOffset = await eventually(async () => Number((await admin.fetchOffsets({ groupId: 'rk-eos', topics: [TXN_TOPIC] }))
    .flatMap(t => t.partitions).find(p => p.partition === 0)?.offset ?? -1), v => v === last + 1);
  check(eosOffset === last + 1, `rk-eos committed ${last + 1} through the transaction, got ${eosOffset}`);
  const out = await consumeAll('rk-out-reader', [OUT_TOPIC], rs => rs.length >= 10);
  check(out.records.every(r => r.value.startsWith('COMMITTED-')), `transformed records: ${out.records.map(r => r.value)}`);
  await out.consumer.disconnect();
  await admin.disconnect();
  console.log(`rdkafka OK: ${N} records over ${byKey.size} keys, 10 committed of 20 transactional, eos offset ${eosOffset}`);
}

main().then(() => process.exit(0), e => { console.error('rdkafka FAILED:', e && e.stack || e); process.exit(1); });
