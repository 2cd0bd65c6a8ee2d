// acl_test.js BOOTSTRAP PHASE - kafkajs 2.2.4 against weir with authorizer.class.name=acl and
// super.users=User:admin, over SASL SCRAM-SHA-256. Users admin, alice, bob (password
// <name>-secret). PHASE "grant": the authorization matrix before and after admin's
// CreateAcls, DescribeAcls and DeleteAcls; PHASE "after-restart": the ACLs are still there.
'use strict';
const { Kafka, logLevel, AclResourceTypes, AclOperationTypes, AclPermissionTypes,
        ResourcePatternTypes } = require('kafkajs');

const [bootstrap, phase] = process.argv.slice(2);
let failures = 0;
function check(ok, what) {
  console.log((ok ? 'ok   ' : 'FAIL ') + what);
  if (!ok) failures++;
}
function client(user) {
  return new Kafka({
    clientId: 'acl-' + user, brokers: [bootstrap], logLevel: logLevel.NOTHING,
    sasl: { mechanism: 'scram-sha-256', username: user, password: user + '-secret' },
    retry: { retries: 0 }, connectionTimeout: 5000, requestTimeout: 5000,
  });
}
// 'none', or the error's Kafka type (kafkajs wraps it: originalError, cause, retry errors)
async function errorOf(fn) {
  try {
    await fn();
    return 'none';
  } catch (e) {
    const names = [];
    for (let x = e, k = 0; x && k < 6; x = x.originalError || x.cause, k++)
      names.push(x.type || x.name || String(x), x.message || '');
    const kafka = names.find((n) => /^[A-Z_]+$/.test(n));
    return kafka || names.join(' / ');
  }
}
async function produce(user, topic) {
  const p = client(user).producer({ allowAutoTopicCreation: false });
  await p.connect();
  try {
    await p.send({ topic, messages: [{ value: 'from ' + user }] });
  } finally {
    await p.disconnect();
  }
}
async function consumeOne(user, topic, groupId) {
  const c = client(user).consumer({ groupId, retry: { retries: 0 } });
  await c.connect();
  try {
    await c.subscribe({ topic, fromBeginning: true });
    await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no record in 15 s')), 15000);
      c.on(c.events.CRASH, (e) => { clearTimeout(t); reject(e.payload.error); });
      c.run({ eachMessage: async () => { clearTimeout(t); resolve(); } }).catch(reject);
    });
  } finally {
    await c.disconnect();
  }
}
async function topicsSeenBy(user) {
  const a = client(user).admin();
  await a.connect();
  try {
    return (await a.fetchTopicMetadata()).topics.map((t) => t.name).sort();
  } finally {
    await a.disconnect();
  }
}
const acl = (principal, resourceType, resourceName, operation, patternType, permission) => ({
  resourceType, resourceName, resourcePatternType: patternType || ResourcePatternTypes.LITERAL,
  principal, host: '*', operation,
  permissionType: permission || AclPermissionTypes.ALLOW,
});

async function grant() {
  const admin = client('admin').admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'orders' }, { topic: 'pub-news' }, { topic: 'secret' }] });
  await produce('admin', 'pub-news');
  // nothing granted: alice sees no topic, cannot write or read
  check(JSON.stringify(await topicsSeenBy('alice')) === '[]', 'without ACLs alice sees no topic');
  let e = await errorOf(() => produce('alice', 'orders'));
  check(e === 'TOPIC_AUTHORIZATION_FAILED', 'without ACLs alice cannot produce: ' + e);
  e = await errorOf(() => admin.createTopics({ topics: [{ topic: 'x' }] }).then(() => produce('bob', 'x')));
  check(e === 'TOPIC_AUTHORIZATION_FAILED', 'bob cannot produce to a topic admin made: ' + e);
  // alice may not manage ACLs
  const aliceAdmin = client('alice').admin();
  await aliceAdmin.connect();
  e = await errorOf(() => aliceAdmin.createAcls({ acl: [acl('User:alice', AclResourceTypes.TOPIC, 'secret', AclOperationTypes.ALL)] }));
  check(/CLUSTER_AUTHORIZATION_FAILED/.test(e), 'alice cannot create ACLs: ' + e);
  // an API that does not check its resources yet is for super users only
  e = await errorOf(() => aliceAdmin.describeConfigs({ resources: [{ type: 2, name: 'orders' }] }));
  check(e !== 'none', 'alice cannot describe configs (super users only for now): ' + e);
  await aliceAdmin.disconnect().catch(() => {});

  await admin.createAcls({ acl: [
    acl('User:alice', AclResourceTypes.TOPIC, 'orders', AclOperationTypes.WRITE),
    acl('User:alice', AclResourceTypes.TOPIC, 'pub-', AclOperationTypes.READ, ResourcePatternTypes.PREFIXED),
    acl('User:alice', AclResourceTypes.GROUP, 'g-alice', AclOperationTypes.READ),
    acl('User:*', AclResourceTypes.TOPIC, 'secret', AclOperationTypes.ALL, undefined, AclPermissionTypes.DENY),
    acl('User:bob', AclResourceTypes.TOPIC, '*', AclOperationTypes.ALL),
  ] });
  const described = await admin.describeAcls({
    resourceType: AclResourceTypes.ANY, resourcePatternType: ResourcePatternTypes.ANY,
    operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY });
  const n = described.resources.reduce((k, r) => k + r.acls.length, 0);
  check(n === 5, 'DescribeAcls lists the 5 bindings: ' + n);

  check(await errorOf(() => produce('alice', 'orders')) === 'none', 'alice produces to orders (WRITE)');
  e = await errorOf(() => consumeOne('alice', 'orders', 'g-alice'));
  check(e === 'TOPIC_AUTHORIZATION_FAILED', 'alice cannot read orders (WRITE only): ' + e);
  check(await errorOf(() => consumeOne('alice', 'pub-news', 'g-alice')) === 'none',
        'alice reads pub-news in group g-alice (PREFIXED READ)');
  e = await errorOf(() => consumeOne('alice', 'pub-news', 'g-other'));
  // kafkajs reports FindCoordinator's GROUP_AUTHORIZATION_FAILED as "coordinator not found"
  // (the shell checks the server's log for the denial)
  check(/GROUP_AUTHORIZATION_FAILED|GroupCoordinatorNotFound/.test(e),
        'alice cannot use another group: ' + e);
  const seen = await topicsSeenBy('alice');
  check(JSON.stringify(seen) === '["orders","pub-news"]', 'alice sees the topics she may describe: ' + seen);
  check(await errorOf(() => produce('bob', 'orders')) === 'none', 'bob produces to orders (ALL on *)');
  e = await errorOf(() => produce('bob', 'secret'));
  check(e === 'TOPIC_AUTHORIZATION_FAILED', 'DENY on secret wins over bob\'s ALLOW on *: ' + e);
  check(await errorOf(() => produce('admin', 'secret')) === 'none', 'a super user is not denied');

  const del = await admin.deleteAcls({ filters: [{
    resourceType: AclResourceTypes.TOPIC, resourceName: 'orders', resourcePatternType: ResourcePatternTypes.LITERAL,
    principal: 'User:alice', host: '*', operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY }] });
  const gone = del.filterResponses[0].matchingAcls.length;
  check(gone === 1, 'DeleteAcls removed alice\'s binding on orders: ' + gone);
  e = await errorOf(() => produce('alice', 'orders'));
  check(e === 'TOPIC_AUTHORIZATION_FAILED', 'after the delete alice cannot produce: ' + e);
  await admin.disconnect();
}

async function afterRestart() {
  check(await errorOf(() => produce('bob', 'orders')) === 'none', 'after a restart bob still produces (the ACLs are stored)');
  const e = await errorOf(() => produce('alice', 'orders'));
  check(e === 'TOPIC_AUTHORIZATION_FAILED', 'after a restart the deleted binding stays deleted: ' + e);
}

(async () => {
  try {
    if (phase === 'grant') await grant();
    else await afterRestart();
  } catch (e) {
    check(false, 'unexpected: ' + (e.stack || e));
  }
  process.exit(failures ? 1 : 0);
})();
