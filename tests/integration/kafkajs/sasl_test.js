// sasl_test.js BOOTSTRAP CA_FILE|- [reauth] - kafkajs 2.2.4 (its own Kafka protocol code, not librdkafka)
// against weir: SCRAM-SHA-256 and SCRAM-SHA-512 logins (over TLS when CA_FILE is given), a
// producer and a consumer group exchanging records, and wrong credentials refused with a SASL
// authentication error. Users: alice/alice-secret (both mechanisms), bob/bob-secret (SHA-512).
'use strict';
const fs = require('fs');
const { Kafka, logLevel } = require('kafkajs');

const [bootstrap, caFile, mode] = process.argv.slice(2);
const ssl = caFile && caFile !== '-' ? { ca: [fs.readFileSync(caFile, 'utf8')], servername: 'localhost' } : false;
let failures = 0;
function check(ok, what) {
  console.log((ok ? 'ok   ' : 'FAIL ') + what);
  if (!ok) failures++;
}
function client(mechanism, username, password, id) {
  return new Kafka({
    clientId: id, brokers: [bootstrap], ssl, logLevel: logLevel.NOTHING,
    sasl: { mechanism, username, password }, retry: { retries: 2 },
    connectionTimeout: 5000, authenticationTimeout: 5000,
  });
}

async function roundTrip(mechanism, user, password) {
  const topic = `kjs-${mechanism}-${user}`;
  const k = client(mechanism, user, password, 'kjs-' + user);
  const admin = k.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
  await admin.disconnect();
  const p = k.producer();
  await p.connect();
  const msgs = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));
  await p.send({ topic, messages: msgs });
  await p.disconnect();
  const c = k.consumer({ groupId: `g-${topic}` });
  await c.connect();
  await c.subscribe({ topic, fromBeginning: true });
  const got = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out with ' + got.length)), 30000);
    c.run({
      eachMessage: async ({ message }) => {
        got.push(`${message.key}=${message.value}`);
        if (got.length === 50) { clearTimeout(timer); resolve(); }
      },
    }).catch(reject);
  });
  await c.disconnect();
  const want = msgs.map((m) => `${m.key}=${m.value}`);
  check(JSON.stringify(got) === JSON.stringify(want), `${mechanism} as ${user}: 50 records produced and consumed in a group`);
}

async function refused(mechanism, user, password) {
  const admin = client(mechanism, user, password, 'kjs-bad').admin();
  try {
    await admin.connect();
    await admin.listTopics();
    check(false, `${mechanism} ${user}/${password} was refused`);
  } catch (e) {
    check(/SASL|uthentication/.test(e.name + ' ' + e.message), `${mechanism} ${user}/${password} refused: ${e.name}`);
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

// KIP-368: the server's sessions last 2 s; kafkajs re-authenticates on its connections
async function longProducer() {
  const k = client('scram-sha-512', 'bob', 'bob-secret', 'kjs-long');
  const p = k.producer();
  await p.connect();
  let sent = 0;
  const t0 = Date.now();
  while (Date.now() - t0 < 5000) {
    await p.send({ topic: 'kjs-long', messages: [{ value: `m${sent}` }] });
    sent++;
    await new Promise((r) => setTimeout(r, 250));
  }
  await p.disconnect();
  check(sent >= 15, `a producer sent ${sent} records over 5 s of 2 s sessions`);
}

(async () => {
  if (mode === 'reauth') {
    try {
      await longProducer();
    } catch (e) {
      check(false, 'unexpected: ' + (e.stack || e));
    }
    process.exit(failures ? 1 : 0);
  }
  try {
    await roundTrip('scram-sha-256', 'alice', 'alice-secret');
    await roundTrip('scram-sha-512', 'bob', 'bob-secret');
    await refused('scram-sha-512', 'bob', 'wrong');
    await refused('scram-sha-256', 'bob', 'bob-secret');
    await refused('scram-sha-256', 'nobody', 'x');
  } catch (e) {
    check(false, 'unexpected: ' + (e.stack || e));
  }
  process.exit(failures ? 1 : 0);
})();
