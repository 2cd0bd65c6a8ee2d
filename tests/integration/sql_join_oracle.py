#!/usr/bin/env python3
"""sql_join_oracle.py KAFKA_PORT HTTP_PORT - weir's joins against sqlite3 on random data.

Seeded random input through the Kafka protocol, over two partitions per topic:
  USERS (20,000 upserts and deletes of 2,000 keys) and PROFILES (10,000 of 1,500 keys) tables,
  ORDERS (8,000 upserts and deletes of 3,000 keys, with a foreign key to USERS),
  a CLICKS stream (40,000 records) keyed by click id and joined on its USER column (weir
  repartitions it).
Queries: a stream-table LEFT join (CLICKS, USERS), table-table INNER, LEFT and FULL OUTER joins
(USERS, PROFILES) and a foreign-key join (ORDERS, USERS); and GROUP BYs on value columns, which
weir repartitions: CLICKS by N (a stream), USERS by REGION (a table whose rows move between
regions and are deleted), and the CLICKS-USERS join's result by REGION. The tables are written before the
stream, with earlier event times, so every click joins the users' final rows. Each table
result, read back from its topic (last record per key, tombstones deleting), must equal the
same join computed by sqlite3 over the final tables; the stream result must hold one record
per click with the right user columns.
"""
import http.client, json, random, sqlite3, sys, time

from confluent_kafka import Consumer, Producer, TopicPartition

KPORT, HPORT = sys.argv[1], sys.argv[2]
rnd = random.Random(7_2026_11_23)
BASE = int(time.time() * 1000) - 3_600_000


def ksql(sql):
    c = http.client.HTTPConnection("127.0.0.1", int(HPORT), timeout=120)
    c.request("POST", "/ksql", json.dumps({"ksql": sql, "streamsProperties": {"auto.offset.reset": "earliest"}}),
              {"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read().decode()
    if r.status != 200:
        sys.exit(f"FAIL: {sql}: {r.status} {data}")


def key8(k):
    return k.to_bytes(8, "big", signed=True)


REGIONS = [f"r{i}" for i in range(30)]
TIERS = ["gold", "silver", "bronze", None]
users, profiles, orders = [], [], []
for i in range(20_000):
    k = rnd.randrange(2_000)
    users.append((k, None if rnd.random() < 0.1 else {"REGION": rnd.choice(REGIONS), "SCORE": rnd.randint(0, 999)}))
for i in range(10_000):
    k = 1_000 + rnd.randrange(1_500)  # overlaps USERS on 1000..1999
    profiles.append((k, None if rnd.random() < 0.1 else {"TIER": rnd.choice(TIERS)}))
for i in range(8_000):
    k = rnd.randrange(3_000)
    orders.append((k, None if rnd.random() < 0.1 else {"USER": rnd.randrange(2_200), "AMT": rnd.randint(1, 500)}))
clicks = [(f"c{i}", {"USER": rnd.randrange(2_200), "N": rnd.randint(0, 9)}) for i in range(40_000)]

db = sqlite3.connect(":memory:")
db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, region TEXT, score INTEGER)")
db.execute("CREATE TABLE profiles (id INTEGER PRIMARY KEY, tier TEXT)")
db.execute("CREATE TABLE orders (oid INTEGER PRIMARY KEY, user INTEGER, amt INTEGER)")
db.execute("CREATE TABLE clicks (id TEXT, user INTEGER, n INTEGER)")
# the tables' updates in the order they are produced: interleaved, each topic in its own order
mixed = [("users", k, v) for k, v in users] + [("profiles", k, v) for k, v in profiles] + \
        [("orders", k, v) for k, v in orders]
rnd.shuffle(mixed)
COLS = {"users": ("REGION", "SCORE"), "profiles": ("TIER",), "orders": ("USER", "AMT")}
for name, k, v in mixed:
    if v is None:
        db.execute(f"DELETE FROM {name} WHERE {'oid' if name == 'orders' else 'id'} = ?", (k,))
    else:
        db.execute(f"INSERT OR REPLACE INTO {name} VALUES (?{',?' * len(COLS[name])})",
                   (k,) + tuple(v[c] for c in COLS[name]))
db.executemany("INSERT INTO clicks VALUES (?,?,?)", [(c, v["USER"], v["N"]) for c, v in clicks])

ksql("CREATE TABLE USERS (ID BIGINT PRIMARY KEY, REGION STRING, SCORE INT) WITH (KAFKA_TOPIC='users', VALUE_FORMAT='JSON', PARTITIONS=2);")
ksql("CREATE TABLE PROFILES (ID BIGINT PRIMARY KEY, TIER STRING) WITH (KAFKA_TOPIC='profiles', VALUE_FORMAT='JSON', PARTITIONS=2);")
ksql("CREATE TABLE ORDERS (OID BIGINT PRIMARY KEY, USER BIGINT, AMT INT) WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON', PARTITIONS=2);")
ksql("CREATE STREAM CLICKS (ID STRING KEY, USER BIGINT, N INT) WITH (KAFKA_TOPIC='clicks', VALUE_FORMAT='JSON', PARTITIONS=2);")
ksql("CREATE STREAM ENRICHED AS SELECT CLICKS.USER, CLICKS.ID AS CID, N, REGION, SCORE FROM CLICKS LEFT JOIN USERS ON CLICKS.USER = USERS.ID;")
ksql("CREATE TABLE UP_INNER AS SELECT USERS.ID, REGION, SCORE, TIER FROM USERS JOIN PROFILES ON USERS.ID = PROFILES.ID;")
ksql("CREATE TABLE UP_LEFT AS SELECT USERS.ID, REGION, SCORE, TIER FROM USERS LEFT JOIN PROFILES ON USERS.ID = PROFILES.ID;")
ksql("CREATE TABLE UP_FULL AS SELECT ROWKEY AS ID, REGION, SCORE, TIER FROM USERS FULL OUTER JOIN PROFILES ON USERS.ID = PROFILES.ID;")
ksql("CREATE TABLE ORDER_USERS AS SELECT OID, AMT, REGION FROM ORDERS JOIN USERS ON ORDERS.USER = USERS.ID;")
ksql("CREATE TABLE CLICKS_BY_N AS SELECT N, COUNT(*) AS C, SUM(USER) AS S FROM CLICKS GROUP BY N;")
ksql("CREATE TABLE USERS_BY_REGION AS SELECT REGION, COUNT(*) AS C, SUM(SCORE) AS S FROM USERS GROUP BY REGION;")
ksql("CREATE TABLE CLICKS_BY_REGION AS SELECT REGION, COUNT(*) AS C, SUM(N) AS S FROM CLICKS JOIN USERS ON CLICKS.USER = USERS.ID GROUP BY REGION;")

# murmur2, as Java clients partition: librdkafka's default (CRC32) would put a key elsewhere than
# the repartition topic does (Kafka Streams needs the same of its producers)
p = Producer({"bootstrap.servers": f"127.0.0.1:{KPORT}", "linger.ms": 20, "partitioner": "murmur2_random"})
# the tables, interleaved, then the stream: every click comes after every table row
for i, (topic, k, v) in enumerate(mixed):
    p.produce(topic, key=key8(k), value=None if v is None else json.dumps(v), timestamp=BASE + i)
    p.poll(0)
p.flush()
for i, (c, v) in enumerate(clicks):
    p.produce("clicks", key=c.encode(), value=json.dumps(v), timestamp=BASE + 1_000_000 + i)
    p.poll(0)
p.flush()


def read_all(topic, want=None, quiet=3.0):
    """Every record of topic: until `want` records, or nothing new for `quiet` seconds."""
    c = Consumer({"bootstrap.servers": f"127.0.0.1:{KPORT}", "group.id": f"oracle-{topic}-{time.time()}",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.assign([TopicPartition(topic, 0, 0), TopicPartition(topic, 1, 0)])
    out, last, start = [], time.time(), time.time()
    while time.time() - start < 300:
        m = c.poll(0.5)
        if m is not None and m.error() is None:
            out.append((m.key(), m.value()))
            last = time.time()
        if want is not None and len(out) >= want:
            break
        if want is None and time.time() - last > quiet:
            break
    c.close()
    return out


fails = 0


def check(name, got, want):
    global fails
    if got != want:
        fails += 1
        missing = sorted(set(want.items()) - set(got.items()))[:5]
        extra = sorted(set(got.items()) - set(want.items()))[:5]
        print(f"FAIL {name}: {len(got)} rows, want {len(want)}; missing {missing}; unexpected {extra}")
    else:
        print(f"ok   {name}: {len(got)} rows equal sqlite3's")


# the stream-table join: one record per click
recs = read_all("ENRICHED", want=len(clicks))
got = {}
for k, v in recs:
    r = json.loads(v)
    got[r["CID"]] = (int.from_bytes(k, "big", signed=True), r["N"], r["REGION"], r["SCORE"])
want = {c: (u, n, reg, sc) for c, u, n, reg, sc in db.execute(
    "SELECT c.id, c.user, c.n, u.region, u.score FROM clicks c LEFT JOIN users u ON c.user = u.id")}
check("stream-table LEFT join (repartitioned stream)", got, want)
if len(recs) != len(clicks):
    fails += 1
    print(f"FAIL ENRICHED has {len(recs)} records for {len(clicks)} clicks")


def table_of(topic, cols, key_of=lambda k: int.from_bytes(k, "big", signed=True)):
    t = {}
    for k, v in read_all(topic):
        key = key_of(k)
        if v is None:
            t.pop(key, None)
        else:
            r = json.loads(v)
            t[key] = tuple(r[c] for c in cols)
    return t


cols = ("REGION", "SCORE", "TIER")
check("table-table INNER join", table_of("UP_INNER", cols), {r[0]: r[1:] for r in db.execute(
    "SELECT u.id, u.region, u.score, p.tier FROM users u JOIN profiles p ON u.id = p.id")})
check("table-table LEFT join", table_of("UP_LEFT", cols), {r[0]: r[1:] for r in db.execute(
    "SELECT u.id, u.region, u.score, p.tier FROM users u LEFT JOIN profiles p ON u.id = p.id")})
full = {r[0]: r[1:] for r in db.execute(
    "SELECT u.id, u.region, u.score, p.tier FROM users u LEFT JOIN profiles p ON u.id = p.id")}
full.update({r[0]: (None, None, r[1]) for r in db.execute(
    "SELECT p.id, p.tier FROM profiles p WHERE p.id NOT IN (SELECT id FROM users)")})
check("table-table FULL OUTER join", table_of("UP_FULL", cols), full)
check("foreign-key join", table_of("ORDER_USERS", ("AMT", "REGION")), {r[0]: r[1:] for r in db.execute(
    "SELECT o.oid, o.amt, u.region FROM orders o JOIN users u ON o.user = u.id")})
check("stream GROUP BY a value column (repartitioned)",
      table_of("CLICKS_BY_N", ("C", "S"), lambda k: int.from_bytes(k, "big", signed=True)),
      {r[0]: r[1:] for r in db.execute("SELECT n, count(*), sum(user) FROM clicks GROUP BY n")})
# a region counted down to zero keeps a row with C = 0; sqlite has no such group
by_region = {k: v for k, v in table_of("USERS_BY_REGION", ("C", "S"), lambda k: k.decode()).items() if v[0] > 0}
check("table GROUP BY a value column (repartitioned, rows moving and deleted)", by_region,
      {r[0]: r[1:] for r in db.execute("SELECT region, count(*), sum(score) FROM users GROUP BY region")})
check("GROUP BY a table column over a stream-table join (both repartitioned)",
      table_of("CLICKS_BY_REGION", ("C", "S"), lambda k: k.decode()),
      {r[0]: r[1:] for r in db.execute(
          "SELECT u.region, count(*), sum(c.n) FROM clicks c JOIN users u ON c.user = u.id GROUP BY u.region")})
sys.exit(1 if fails else 0)
