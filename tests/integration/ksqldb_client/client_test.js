// client_test.js - the npm package ksqldb-client (a real ksqlDB client, over HTTP/2) against
// weir: a statement, an insert, a pull query, a push query that sees a row inserted while it
// runs and is then terminated, and a source description. Prints TAP-like lines and
// "N passed, N failed".
//   node client_test.js HTTP_PORT
const assert = require("assert");
const KsqldbClient = require("ksqldb-client");

const port = parseInt(process.argv[2], 10);
let passed = 0;
let failed = 0;
function check(name, fn) {
  try {
    fn();
    passed++;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL - ${name}: ${e.message}`);
  }
}
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

(async () => {
  const client = new KsqldbClient({ host: "http://127.0.0.1", port });
  await client.connect();

  let r = await client.executeStatement(
    "CREATE STREAM pets (id INT KEY, name STRING) WITH (kafka_topic='pets', value_format='JSON', partitions=1);");
  check("executeStatement: CREATE STREAM", () => {
    assert.strictEqual(r.status, 200);
    assert.strictEqual(r.data.rows[0]["@type"], "currentStatus");
    assert.strictEqual(r.data.rows[0].commandStatus.status, "SUCCESS");
  });

  r = await client.executeStatement("CREATE STREAM broken (;");
  check("executeStatement: a syntax error comes back as ksqlDB's statement_error", () => {
    assert.strictEqual(r.status, 400);
    assert.strictEqual(r.error.error_code, 40001);
    assert.match(r.error.message, /line 1:\d+: Syntax Error/);
  });

  r = await client.insertInto("pets", { ID: 1, NAME: "rex" });
  check("insertInto", () => {
    assert.strictEqual(r.status, 200);
    assert.deepStrictEqual(r.data.rows, [{ status: "ok", seq: 0 }]);
  });

  r = await client.listStreams();
  check("listStreams", () => {
    assert.deepStrictEqual(r.map((s) => [s.name, s.topic, s.valueFormat]), [["PETS", "pets", "JSON"]]);
  });

  r = await client.query("SELECT * FROM pets;");
  check("query (a pull query over the stream)", () => {
    assert.strictEqual(r.status, 200);
    assert.deepStrictEqual(r.data.metadata.columnNames, ["ID", "NAME"]);
    assert.deepStrictEqual(r.data.rows, [{ ID: 1, NAME: "rex" }]);
  });

  const seen = [];
  let queryId = null;
  const ended = client.streamQuery("SELECT id, UCASE(name) AS name FROM pets EMIT CHANGES;", (d) => {
    if (d.metadata) queryId = d.metadata.queryId;
    if (d.rows) seen.push(...d.rows);
  });
  for (let i = 0; i < 50 && queryId === null; i++) await sleep(50);
  await client.insertInto("pets", { id: 2, name: "tom" });
  for (let i = 0; i < 100 && seen.length === 0; i++) await sleep(50);
  check("streamQuery: the push query sees a row inserted while it runs", () => {
    assert.ok(queryId && queryId.startsWith("transient_PETS_"), `queryId ${queryId}`);
    assert.deepStrictEqual(seen, [{ ID: 2, NAME: "TOM" }]);
  });
  r = await client.terminatePushQuery(queryId);
  check("terminatePushQuery", () => assert.strictEqual(r.status, 200));
  const outcome = await Promise.race([ended.then(() => "ended"), sleep(5000).then(() => "still running")]);
  check("the push query's stream ends when it is terminated", () => assert.strictEqual(outcome, "ended"));

  r = await client.describeSource("pets");
  check("describeSource", () => {
    assert.strictEqual(r.name, "PETS");
    assert.deepStrictEqual(r.fields.map((f) => [f.name, f.schema.type, f.type || null]),
      [["ID", "INTEGER", "KEY"], ["NAME", "STRING", null]]);
  });

  await client.disconnect();
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
})().catch((e) => {
  console.log(`FAIL - unexpected error: ${e && e.stack ? e.stack : e}`);
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
});
