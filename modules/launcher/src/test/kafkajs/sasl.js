// kafkajs over SASL: `node sasl.js HOST:PORT MECHANISM USER PASSWORD` creates a topic, produces 100 messages,
// consumes them in a group, and exits 0 with "kafkajs SASL OK"; with a wrong password it must fail to connect
// (`node sasl.js ... --expect-failure` exits 0 with "kafkajs SASL refused: <error name>"). Run by
// kiri.launcher.KafkajsSaslTest.
'use strict';
const { Kafka, logLevel } = require('kafkajs');

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const [bootstrap, mechanism, username, password, flag] = process.argv.slice(2);
const kafka = new Kafka({ clientId: 'kiri-kafkajs-sasl', brokers: [bootstrap], logLevel: logLevel.NOTHING,
  sasl: { mechanism, username, password }, retry: { retries: 2 } });
const N = 100;

async function main() {
  const admin = kafka.admin();
  if (flag === '--expect-failure') {
    try {
      await admin.connect();
    } catch (e) {
      console.log('kafkajs SASL refused: ' + e.name + ': ' + e.message);
      return;
    }
    throw new Error('connected with a wrong password');
  }
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'js-sasl', numPartitions: 2 }] });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  for (let i = 0; i < N; i++) {
    await producer.send({ topic: 'js-sasl', messages: [{ key: 'k' + (i % 7), value: 'v' + i }] });
  }
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: 'js-sasl-group' });
  await consumer.connect();
  await consumer.subscribe({ topic: 'js-sasl', fromBeginning: true });
  let got = 0;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`consumed ${got} of ${N}`)), 30000);
    consumer.run({ eachMessage: async () => { if (++got >= N) { clearTimeout(timer); resolve(); } } });
  });
  await consumer.disconnect();
  console.log(`kafkajs SASL OK: ${got} messages`);
}

main().catch((e) => { console.error(e); process.exit(1); });
