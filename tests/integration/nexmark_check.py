#!/usr/bin/env python3
"""nexmark_check.py KAFKA_PORT HTTP_PORT GEN QUERIES_DIR - the Nexmark queries of
bench/nexmark/queries on the real server, each against an oracle over the same events.

`GEN --bootstrap` writes EVENTS events (at 500 events/s of event time, 60 s of it: every event
has a time of its own, so joins by event time have no ties) and q13's side input to the server;
`GEN --stdout` with the same base time gives the same events to this script. The queries run
from the earliest offset; once their outputs stop growing, each output topic is read back and
compared: streams as multisets of rows, tables as their last row per key (tombstones delete).
The oracles are sqlite3 queries (q0-q4, q7-q9, q13) or computed here (q5's sliding windows,
q11's sessions, q12's processing-time groups).
"""
import decimal, http.client, json, os, sqlite3, struct, subprocess, sys, time
from collections import Counter, defaultdict

from confluent_kafka import Consumer, TopicPartition

KPORT, HPORT, GEN, QDIR = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
EVENTS, RATE, SIDE = 30_000, 500, 10_000
# an hour ago (inside the log's retention), on a 10-second boundary
BASE = (int(time.time() * 1000) - 3_600_000) // 10_000 * 10_000
QUERIES = ["q0", "q1", "q2", "q3", "q4", "q5", "q7", "q8", "q9", "q11", "q12", "q13"]
failures = []


def ksql(sql, what):
    """Runs a script of statements through /ksql, each query from the earliest offsets."""
    conn = http.client.HTTPConnection("127.0.0.1", int(HPORT), timeout=120)
    body = {"ksql": sql, "streamsProperties": {"auto.offset.reset": "earliest"}}
    conn.request("POST", "/ksql", json.dumps(body), {"Content-Type": "application/json"})
    r = conn.getresponse()
    if r.status != 200:
        sys.exit(f"FAIL: {what}: {r.status} {r.read().decode()}")
    conn.close()


def gen(*args):
    return subprocess.run([GEN, "--events", str(EVENTS), "--rate", str(RATE), "--base-time",
                           str(BASE), "--side-input", str(SIDE), *args],
                          check=True, stdout=subprocess.PIPE, text=True).stdout


# ---- the input: into the server, and here ------------------------------------------------
t0 = time.time()
gen("--bootstrap", f"127.0.0.1:{KPORT}")
events = [json.loads(l) for l in gen("--stdout").splitlines()]
by_topic = defaultdict(list)
for e in events:
    by_topic[e["topic"]].append(e["value"])
persons, auctions, bids = by_topic["person"], by_topic["auction"], by_topic["bid"]
print(f"{len(persons)} persons, {len(auctions)} auctions, {len(bids)} bids "
      f"({time.time() - t0:.1f} s to write them)")
assert (len(persons), len(auctions), len(bids)) == (600, 1800, 27600)
assert len({p["id"] for p in persons}) == 600 and len({a["id"] for a in auctions}) == 1800

db = sqlite3.connect(":memory:")
db.execute("CREATE TABLE person (id, name, city, state, datetime)")
db.executemany("INSERT INTO person VALUES (?,?,?,?,?)",
               [(p["id"], p["name"], p["city"], p["state"], p["dateTime"]) for p in persons])
db.execute("CREATE TABLE auction (id, itemname, description, initialbid, reserve, datetime, "
           "expires, seller, category, extra)")
db.executemany("INSERT INTO auction VALUES (?,?,?,?,?,?,?,?,?,?)",
               [(a["id"], a["itemName"], a["description"], a["initialBid"], a["reserve"],
                 a["dateTime"], a["expires"], a["seller"], a["category"], a["extra"])
                for a in auctions])
db.execute("CREATE TABLE bid (auction, bidder, price, datetime, extra)")
db.executemany("INSERT INTO bid VALUES (?,?,?,?,?)",
               [(b["auction"], b["bidder"], b["price"], b["dateTime"], b["extra"]) for b in bids])
END = max(b["dateTime"] for b in bids)  # the stream time the windows see at the end

# ---- the queries -------------------------------------------------------------------------
ksql(open(os.path.join(QDIR, "ddl.sql")).read(), "ddl.sql")
wall_start = int(time.time() * 1000)
for q in QUERIES:
    ksql(open(os.path.join(QDIR, q + ".sql")).read(), q + ".sql")

OUT = [q.upper() for q in QUERIES]
c = Consumer({"bootstrap.servers": f"127.0.0.1:{KPORT}", "group.id": "nexmark-check",
              "enable.auto.commit": False})


def ends():
    return [c.get_watermark_offsets(TopicPartition(t, 0), timeout=10)[1] for t in OUT]


last, since = None, time.time()
while time.time() - since < 4:  # until nothing new for 4 s
    e = ends()
    if e != last:
        last, since = e, time.time()
    if time.time() - t0 > 200:
        sys.exit("FAIL: the outputs still grow after 200 s")
    time.sleep(0.5)
wall_end = int(time.time() * 1000)
print(f"outputs settled {time.time() - t0:.1f} s after the start: "
      + ", ".join(f"{t} {n}" for t, n in zip(OUT, last)))


def read(topic, n):
    """Every record of partition 0 up to offset n: (key bytes, value dict or None, timestamp).
    Offsets are not records: under exactly-once, commit markers take offsets too."""
    tp = TopicPartition(topic, 0, 0)
    c.assign([tp])
    recs = []
    deadline = time.time() + 30
    while True:
        m = c.poll(0.5)
        if m is None:
            pos = c.position([TopicPartition(topic, 0)])[0].offset
            if pos >= n:
                break
            if time.time() > deadline:
                sys.exit(f"FAIL: {topic}: read {len(recs)} records, up to offset {pos} of {n}")
            continue
        if m.error():
            continue
        v = m.value()
        recs.append((m.key(), None if v is None else json.loads(v, parse_float=decimal.Decimal),
                     m.timestamp()[1]))
    return recs


def i64(b, at=0):
    return struct.unpack(">q", b[at:at + 8])[0]


def table(recs, key):
    """The last row of each key; a tombstone removes it."""
    t = {}
    for k, v, _ in recs:
        if v is None:
            t.pop(key(k), None)
        else:
            t[key(k)] = v
    return t


def check(q, got, want):
    if got == want:
        print(f"ok   {q}: {len(want) if hasattr(want, '__len__') else want} rows")
        return
    failures.append(q)
    print(f"FAIL {q}: {len(got)} rows, expected {len(want)}")
    if isinstance(got, Counter):
        got, want = dict(got), dict(want)
    if isinstance(got, dict):
        for k in sorted(set(got) | set(want), key=repr)[:400]:
            if got.get(k) != want.get(k):
                print(f"  {k}: got {got.get(k)} expected {want.get(k)}")
                break


out = {t: read(t, n) for t, n in zip(OUT, last)}
rows = lambda sql: db.execute(sql).fetchall()

# q0, q1, q2: every bid (q2: every 123rd auction's), q1's price as DECIMAL 0.908 * price
check("q0", Counter((i64(k), v["BIDDER"], v["PRICE"], v["DATETIME"], v["EXTRA"])
                    for k, v, _ in out["Q0"]),
      Counter(rows("SELECT auction, bidder, price, datetime, extra FROM bid")))
check("q1", Counter((i64(k), v["BIDDER"], v["PRICE"], v["DATETIME"]) for k, v, _ in out["Q1"]),
      Counter((b["auction"], b["bidder"], decimal.Decimal("0.908") * b["price"], b["dateTime"])
              for b in bids))
check("q2", Counter((i64(k), v["PRICE"]) for k, v, _ in out["Q2"]),
      Counter(rows("SELECT auction, price FROM bid WHERE auction % 123 = 0")))
# q3: the auction's id -> the seller's name, city, state
check("q3", {k: (v["NAME"], v["CITY"], v["STATE"]) for k, v in table(out["Q3"], i64).items()},
      {r[0]: r[1:] for r in rows(
          "SELECT a.id, p.name, p.city, p.state FROM auction a JOIN person p ON a.seller = p.id "
          "WHERE a.category = 10 AND p.state IN ('OR', 'ID', 'CA')")})
# q4: category -> the average of its auctions' highest bids while open
check("q4", {k: round(float(v["AVG_FINAL"]), 6) for k, v in table(out["Q4"], i64).items()},
      {r[0]: round(r[1], 6) for r in rows(
          "SELECT category, AVG(final) FROM (SELECT a.id, a.category, MAX(b.price) AS final "
          "FROM auction a JOIN bid b ON a.id = b.auction "
          "WHERE b.datetime BETWEEN a.datetime AND a.expires GROUP BY a.id, a.category) "
          "GROUP BY category")})
# q5: per 10 s window sliding by 2 s, the auctions with the most bids. A window's counts come
# out when event time reaches its end; its maximum when the next window's counts come out.
counts = defaultdict(Counter)
for b in bids:
    t = b["dateTime"]
    for ws in range(t // 2000 * 2000 - 8000, t + 1, 2000):
        if ws >= 0 and ws <= t < ws + 10000:
            counts[ws][b["auction"]] += 1
want5 = Counter()
for ws, cnt in counts.items():
    if ws + 2000 + 10000 <= END:
        top = max(cnt.values())
        want5.update((a, n, ws) for a, n in cnt.items() if n == top)
check("q5", Counter((v["AUCTION"], v["NUM"], v.get("STARTTIME", i64(k))) for k, v, _ in out["Q5"]),
      want5)
# q7: per closed 10 s tumbling window, the bids at its highest price (Flink's time range)
check("q7", Counter((i64(k), v["AUCTION"], v["BIDDER"], v["DATETIME"]) for k, v, _ in out["Q7"]),
      Counter(rows(
          "WITH w AS (SELECT datetime / 10000 * 10000 + 10000 AS wend, MAX(price) AS maxprice "
          f"FROM bid GROUP BY datetime / 10000 HAVING datetime / 10000 * 10000 + 10000 <= {END}) "
          "SELECT b.price, b.auction, b.bidder, b.datetime FROM bid b JOIN w "
          "ON b.price = w.maxprice AND b.datetime BETWEEN w.wend - 10001 AND w.wend - 1")))
# q8: people who opened an auction in the 10 s window they registered in
check("q8", {(k["ID"], k["STARTTIME"]): v["NAME"]
             for k, v in table(out["Q8"], lambda b: tuple(sorted(json.loads(b).items()))).items()
             for k in [dict(k)]},
      {(r[0], r[2]): r[1] for r in rows(
          "SELECT DISTINCT p.id, p.name, p.datetime / 10000 * 10000 FROM person p "
          "JOIN auction a ON p.id = a.seller WHERE p.datetime / 10000 = a.datetime / 10000")})
# q9: each auction's highest bid while open, the earliest of equals
check("q9", {k: (v["SELLER"], v["CATEGORY"], v["EXPIRES"], v["PRICE"], v["BIDDER"],
                 v["BID_DATETIME"], v["BID_EXTRA"])
             for k, v in table(out["Q9"], i64).items()},
      {r[0]: r[1:] for r in rows(
          "SELECT id, seller, category, expires, price, bidder, bdt, bextra FROM ("
          "SELECT a.id, a.seller, a.category, a.expires, b.price, b.bidder, b.datetime AS bdt, "
          "b.extra AS bextra, ROW_NUMBER() OVER (PARTITION BY a.id "
          "ORDER BY b.price DESC, b.datetime ASC) AS rn FROM auction a JOIN bid b "
          "ON a.id = b.auction WHERE b.datetime BETWEEN a.datetime AND a.expires) WHERE rn = 1")})
# q11: sessions per bidder, records at most 10 s apart in one session (Kafka Streams')
times = defaultdict(list)
for b in bids:
    times[b["bidder"]].append(b["dateTime"])
want11 = {}
for bidder, ts in times.items():
    ts.sort()
    start = prev = ts[0]
    n = 0
    for t in ts + [None]:
        if t is None or t - prev > 10000:
            want11[(bidder, start, prev)] = n
            start, n = t, 0
        if t is not None:
            prev, n = t, n + 1
# a session's key: the bidder, then the window's end and start
got11 = {(key[0], v["STARTTIME"], v["ENDTIME"]): v["BID_COUNT"]
         for key, v in table(out["Q11"], lambda b: (i64(b), i64(b, 16), i64(b, 8))).items()}
check("q11", got11, want11)
# q12: per bidder, its bids counted once across processing-time windows of this run
got12 = Counter()
bad12 = []
for key, v in table(out["Q12"], lambda b: tuple(sorted(json.loads(b).items()))).items():
    k = dict(key)
    got12[k["BIDDER"]] += v["BID_COUNT"]
    if not (wall_start // 10000 * 10000 <= k["STARTTIME"] <= wall_end):
        bad12.append(k)
check("q12", got12, Counter(b["bidder"] for b in bids))
if bad12:
    failures.append("q12")
    print(f"FAIL q12: windows outside the run's wall-clock time: {bad12[:3]}")
# q13: every bid with the side input's row for auction % 10000
check("q13", Counter((i64(k), v["AUCTION"], v["BIDDER"], v["PRICE"], v["VALUE"])
                     for k, v, _ in out["Q13"]),
      Counter((b["auction"] % 10000, b["auction"], b["bidder"], b["price"],
               f"side-{b['auction'] % 10000}") for b in bids))
c.close()
if failures:
    sys.exit(f"FAIL: {', '.join(failures)} differ from their oracles")
print(f"all {len(QUERIES)} queries agree with their oracles ({time.time() - t0:.1f} s)")
