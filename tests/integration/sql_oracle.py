#!/usr/bin/env python3
"""sql_oracle.py KAFKA_PORT HTTP_PORT - weir's GROUP BY and window queries against sqlite3.

A seeded random input (100,000 stream records with out-of-order event times and nulls, and
30,000 upserts and deletes of a 3,000-row table) goes into weir through the Kafka protocol and
into an in-memory sqlite3 database. Each query's table, read back from weir with a pull query
over HTTP, must equal the same aggregation computed by sqlite3, row for row. While the input
is still arriving, pull queries run against the tables being written: each must answer, and a
group's COUNT(*) over a stream must never go down from one pull to the next.
"""
import http.client, json, random, sqlite3, struct, sys, threading, time

from confluent_kafka import Producer

KPORT, HPORT = sys.argv[1], sys.argv[2]
STREAM_RECORDS, TABLE_UPDATES, TABLE_KEYS = 100_000, 30_000, 3_000
rnd = random.Random(20261123)


def post(path, body):
    c = http.client.HTTPConnection("127.0.0.1", int(HPORT), timeout=120)
    c.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read().decode()
    c.close()
    return r.status, data


def ksql(sql):
    st, data = post("/ksql", {"ksql": sql, "streamsProperties": {"auto.offset.reset": "earliest"}})
    if st != 200:
        sys.exit(f"FAIL: {sql}: {st} {data}")


def pull(sql):
    """Rows of a pull query as dicts by column name."""
    st, data = post("/query-stream", {"sql": sql})
    if st != 200:
        raise RuntimeError(f"{sql}: {st} {data}")
    lines = [l for l in data.split("\n") if l.strip()]
    names = json.loads(lines[0])["columnNames"]
    rows = []
    for l in lines[1:]:
        v = json.loads(l)
        if isinstance(v, dict):  # an error or a final message
            raise RuntimeError(f"{sql}: {l}")
        rows.append(dict(zip(names, v)))
    return rows


# ---- the input --------------------------------------------------------------------------
NAMES = [f"n{i:02d}" for i in range(50)]
BASE = (int(time.time() * 1000) - 3_600_000) // 1000 * 1000  # an hour ago: within retention
stream = []
for i in range(STREAM_RECORDS):
    name = None if rnd.random() < 0.02 else rnd.choice(NAMES)
    amount = None if rnd.random() < 0.05 else rnd.randint(-20, 100)
    price = None if rnd.random() < 0.05 else rnd.randint(0, 400) * 0.25
    ts = BASE + max(0, i * 6 + rnd.randint(-3000, 3000))  # 10 minutes, out of order up to 3 s
    stream.append((f"k{i}", name, amount, price, ts))
REGIONS = [f"r{i}" for i in range(20)]
updates = []
for i in range(TABLE_UPDATES):
    key = rnd.randrange(TABLE_KEYS)
    if rnd.random() < 0.1:
        updates.append((key, None))
    else:
        region = None if rnd.random() < 0.02 else rnd.choice(REGIONS)
        updates.append((key, (region, rnd.randint(0, 1000))))

db = sqlite3.connect(":memory:")
db.execute("CREATE TABLE s (k TEXT, name TEXT, amount INTEGER, price REAL, ts INTEGER)")
db.executemany("INSERT INTO s VALUES (?,?,?,?,?)", stream)
db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, region TEXT, score INTEGER)")
for key, v in updates:
    if v is None:
        db.execute("DELETE FROM users WHERE id = ?", (key,))
    else:
        db.execute("INSERT OR REPLACE INTO users VALUES (?,?,?)", (key, v[0], v[1]))

# ---- the queries, each with its sqlite3 oracle ------------------------------------------
ksql("CREATE STREAM S (K STRING KEY, NAME STRING, AMOUNT INT, PRICE DOUBLE) "
     "WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON', PARTITIONS=1);")
ksql("CREATE TABLE USERS (ID INT PRIMARY KEY, REGION STRING, SCORE INT) "
     "WITH (KAFKA_TOPIC='users', VALUE_FORMAT='JSON', PARTITIONS=1);")
QUERIES = [
    ("BYNAME",
     "CREATE TABLE BYNAME AS SELECT NAME, COUNT(*) AS N, COUNT(AMOUNT) AS NA, SUM(AMOUNT) AS SA, "
     "MIN(AMOUNT) AS MI, MAX(AMOUNT) AS MA, AVG(PRICE) AS AP, COUNT_DISTINCT(AMOUNT) AS DA "
     "FROM S GROUP BY NAME;",
     "SELECT name, COUNT(*), COUNT(amount), COALESCE(SUM(amount), 0), MIN(amount), MAX(amount), "
     "COALESCE(AVG(price), 0.0), COUNT(DISTINCT amount) FROM s WHERE name IS NOT NULL GROUP BY name",
     ["NAME", "N", "NA", "SA", "MI", "MA", "AP", "DA"]),
    ("FILTERED",
     "CREATE TABLE FILTERED AS SELECT NAME, COUNT(*) AS N, MAX(PRICE) AS MP FROM S "
     "WHERE AMOUNT > 50 GROUP BY NAME HAVING COUNT(*) > 770;",
     "SELECT name, COUNT(*), MAX(price) FROM s WHERE amount > 50 AND name IS NOT NULL "
     "GROUP BY name HAVING COUNT(*) > 770",
     ["NAME", "N", "MP"]),
    ("TUMBLING",
     "CREATE TABLE TUMBLING AS SELECT NAME, COUNT(*) AS N, SUM(AMOUNT) AS SA FROM S "
     "WINDOW TUMBLING (SIZE 1 SECOND) GROUP BY NAME;",
     "SELECT name, ts / 1000 * 1000, ts / 1000 * 1000 + 1000, COUNT(*), COALESCE(SUM(amount), 0) "
     "FROM s WHERE name IS NOT NULL GROUP BY name, ts / 1000",
     ["NAME", "WINDOWSTART", "WINDOWEND", "N", "SA"]),
    ("HOPPING",
     "CREATE TABLE HOPPING AS SELECT NAME, COUNT(*) AS N, MIN(AMOUNT) AS MI FROM S "
     "WINDOW HOPPING (SIZE 2 SECONDS, ADVANCE BY 500 MILLISECONDS) GROUP BY NAME;",
     "WITH k(i) AS (VALUES (0), (1), (2), (3)) "
     "SELECT name, ws, ws + 2000, COUNT(*), MIN(amount) FROM "
     "(SELECT name, amount, ts, ts / 500 * 500 - i * 500 AS ws FROM s, k) "
     "WHERE ws >= 0 AND ts < ws + 2000 AND name IS NOT NULL GROUP BY name, ws",
     ["NAME", "WINDOWSTART", "WINDOWEND", "N", "MI"]),
    ("REGIONS",
     "CREATE TABLE REGIONS AS SELECT REGION, COUNT(*) AS N, SUM(SCORE) AS S FROM USERS "
     "GROUP BY REGION HAVING COUNT(*) > 0;",
     "SELECT region, COUNT(*), COALESCE(SUM(score), 0) FROM users WHERE region IS NOT NULL "
     "GROUP BY region",
     ["REGION", "N", "S"]),
]
for name, create, _, _ in QUERIES:
    ksql(create)


# ---- pulls while the input arrives ------------------------------------------------------
stop = threading.Event()
problems, pulls = [], [0]


def puller():
    seen = {}
    while not stop.is_set():
        try:
            for r in pull("SELECT NAME, N FROM BYNAME;"):
                if r["N"] < seen.get(r["NAME"], 0):
                    problems.append(f"COUNT(*) of {r['NAME']} went down: {seen[r['NAME']]} -> {r['N']}")
                seen[r["NAME"]] = r["N"]
            pulls[0] += 1
        except Exception as e:  # noqa: BLE001 - any failure is a finding
            problems.append(f"pull while writing failed: {e}")
        time.sleep(0.05)


t = threading.Thread(target=puller, daemon=True)
t.start()
p = Producer({"bootstrap.servers": f"127.0.0.1:{KPORT}", "linger.ms": 20})


def produce(topic, key, value, ts):
    while True:
        try:
            p.produce(topic, key=key, value=value, timestamp=ts)
            p.poll(0)
            return
        except BufferError:  # the client's queue is full: let it drain
            p.poll(0.1)


for k, name, amount, price, ts in stream:
    v = {"NAME": name, "AMOUNT": amount, "PRICE": price}
    produce("s", k.encode(), json.dumps(v).encode(), ts)
for i, (key, v) in enumerate(updates):
    value = None if v is None else json.dumps({"REGION": v[0], "SCORE": v[1]}).encode()
    produce("users", struct.pack(">i", key), value, BASE + i)
if p.flush(60) != 0:
    sys.exit("FAIL: the producer did not deliver everything")


# ---- compare ----------------------------------------------------------------------------
def norm(v):
    return round(v, 9) if isinstance(v, float) else v


def rows_of(sql_rows):
    return sorted(tuple(norm(x) for x in r) for r in sql_rows)


failed = False
for name, _, oracle, cols in QUERIES:
    want = rows_of(db.execute(oracle).fetchall())
    got, deadline = None, time.time() + 120
    while time.time() < deadline:
        got = rows_of([[r[c] for c in cols] for r in pull(f"SELECT * FROM {name};")])
        if got == want:
            break
        time.sleep(0.5)
    if got != want:
        failed = True
        print(f"FAIL: {name}: weir has {len(got)} rows, sqlite3 {len(want)}", flush=True)
        gs, ws = set(got), set(want)
        for r in sorted(ws - gs)[:5]:
            print("  only sqlite3:", r)
        for r in sorted(gs - ws)[:5]:
            print("  only weir:   ", r)
    elif name == "FILTERED" and not 0 < len(got) < len(NAMES):
        failed = True
        print(f"FAIL: HAVING should keep some groups and drop others, kept {len(got)}")
    else:
        print(f"ok: {name}: {len(got)} rows equal sqlite3's", flush=True)
stop.set()
t.join()
for pr in problems[:10]:
    print("FAIL:", pr)
print(f"{pulls[0]} pulls of BYNAME while it was written")
if failed or problems or pulls[0] == 0:
    sys.exit(1)
