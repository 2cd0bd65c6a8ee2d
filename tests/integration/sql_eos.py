#!/usr/bin/env python3
"""sql_eos.py WEIR_BINARY DIR [KILLS] - the exactly-once SQL test.

A CSAS echo query and a CTAS per-key count/sum run under exactly_once_v2 (weir's default) over
100,000 JSON records that an idempotent producer writes at 5,000 a second. While they flow in
(and the queries work on them, mid-transaction) the server is killed with SIGKILL at random
moments (KILLS times, default 8) and restarted; the producer delivers the rest after each
restart. Meanwhile a client asks pull queries of the table, and each value a pull query
returns must already be committed: a read_committed consumer of the table's topic must hold
that very row (the transaction's markers are written before the store sees the state). At
the end:
  - ECHO equals the input record for record, partition by partition, in order (no loss, no
    duplicate);
  - the table's rows, read from its topic (read_committed) and by a pull query over the whole
    table, equal sqlite3's GROUP BY over the input.
"""
import http.client
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

from confluent_kafka import Consumer, Producer, TopicPartition

WEIR, DIR = sys.argv[1], sys.argv[2]
KILLS = int(sys.argv[3]) if len(sys.argv) > 3 else 8
N, KEYS, PARTS = 100_000, 200, 4
rnd = random.Random(20261123)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


KPORT, HPORT = free_port(), free_port()
BOOT = f"127.0.0.1:{KPORT}"
server = None
kills = 0  # bumped before each kill: observations that straddle one are not judged


def start():
    global server
    log = open(os.path.join(DIR, "server.log"), "a")
    server = subprocess.Popen([WEIR, "server", "--data-dir", os.path.join(DIR, "data"),
                               "--kafka-listen", BOOT, "--http-listen", f"127.0.0.1:{HPORT}",
                               "--property", "log.flush.policy=none",
                               # SQL_EOS_GUARANTEE=at_least_once shows what the test catches
                               "--property", "ksql.streams.processing.guarantee=" +
                               os.environ.get("SQL_EOS_GUARANTEE", "exactly_once_v2")],
                              stdout=log, stderr=subprocess.STDOUT)
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", HPORT), 0.2).close()
            socket.create_connection(("127.0.0.1", KPORT), 0.2).close()
            return
        except OSError:
            if server.poll() is not None:
                break
            time.sleep(0.1)
    sys.exit("FAIL: the server did not start")


def kill():
    global kills
    kills += 1
    server.send_signal(signal.SIGKILL)
    server.wait()


def post(path, body, timeout=30):
    c = http.client.HTTPConnection("127.0.0.1", HPORT, timeout=timeout)
    c.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    if r.status != 200:
        raise RuntimeError(f"{path}: {r.status} {data[:300]!r}")
    return json.loads(data)


def pull(sql):
    """The rows of a pull query: [K, C, S] lists."""
    out = post("/query", {"ksql": sql})
    return [e["row"]["columns"] for e in out if isinstance(e, dict) and "row" in e]


def consumer(group):
    # reconnects quickly after a restart: a pull-query row waits for it to catch up
    return Consumer({"bootstrap.servers": BOOT, "group.id": group, "enable.auto.commit": False,
                     "isolation.level": "read_committed", "auto.offset.reset": "earliest",
                     "reconnect.backoff.ms": 50, "reconnect.backoff.max.ms": 200})


# ---- the pull-query client, and the committed rows it is judged against -------------------
# A row a pull query returns must be committed already: the read_committed consumer must find
# it among AGG's records below the last stable offset as of the pull (asked right after it).
# A store that showed a transaction's state before its markers would fail this even when the
# same state commits a moment later.
committed = {}  # key -> {(C, S): lowest offset}, from a read_committed consumer of AGG
position = {}  # partition -> that consumer's position
committed_mu = threading.Lock()
stop = threading.Event()
judged, failures = [0], []


def follow_agg():
    c = consumer("eos-follow")
    tps = [TopicPartition("AGG", p, 0) for p in range(PARTS)]
    c.assign(tps)
    while not stop.is_set():
        m = c.poll(0.1)
        if m is not None and not m.error() and m.value() is not None:
            v = json.loads(m.value())
            with committed_mu:
                rows = committed.setdefault(m.key().decode(), {})
                rows.setdefault((v["C"], v["S"]), (m.partition(), m.offset()))
        try:
            pos = c.position([TopicPartition("AGG", p) for p in range(PARTS)])
        except Exception:
            continue
        with committed_mu:
            for tp in pos:
                position[tp.partition] = tp.offset
    c.close()


def ask_pulls():
    r = random.Random(7)
    lso = consumer("eos-lso")
    while not stop.is_set():
        k = f"k{r.randrange(KEYS)}"
        before = kills
        try:
            rows = pull(f"SELECT * FROM AGG WHERE K = '{k}';")
            # read_committed: the high watermark it is told is the last stable offset
            stable = [lso.get_watermark_offsets(TopicPartition("AGG", p), timeout=5,
                                                cached=False)[1] for p in range(PARTS)]
        except Exception:
            time.sleep(0.05)  # the server is down or restarting
            continue
        deadline = time.time() + 20
        while time.time() < deadline and kills == before:
            with committed_mu:
                caught_up = all(position.get(p, -1) >= stable[p] for p in range(PARTS))
            if caught_up:
                break
            time.sleep(0.02)
        if kills != before or not caught_up:
            continue  # a kill came in between: the observation is not judged
        for row in rows:
            with committed_mu:
                at = committed.get(row[0], {}).get((row[1], row[2]))
            judged[0] += 1
            if at is None or at[1] >= stable[at[0]]:
                failures.append(f"a pull query returned {row}, which was not a committed row of "
                                f"AGG then (first committed at {at}, stable offsets {stable})")
        time.sleep(0.01)


# ---- the run --------------------------------------------------------------------------------
os.makedirs(DIR, exist_ok=True)
T0 = time.time()
start()
post("/ksql", {"ksql": f"""
CREATE STREAM IN_S (K STRING KEY, ID BIGINT, V INT)
  WITH (KAFKA_TOPIC='in', VALUE_FORMAT='JSON', PARTITIONS={PARTS});
CREATE STREAM ECHO AS SELECT * FROM IN_S;
CREATE TABLE AGG AS SELECT K, COUNT(*) AS C, SUM(V) AS S FROM IN_S GROUP BY K;
""", "streamsProperties": {"auto.offset.reset": "earliest"}})

records = [(f"k{rnd.randrange(KEYS)}", i, rnd.randrange(-500, 1000)) for i in range(N)]
threads = [threading.Thread(target=follow_agg, daemon=True),
           threading.Thread(target=ask_pulls, daemon=True)]
for t in threads:
    t.start()
p = Producer({"bootstrap.servers": BOOT, "enable.idempotence": True,
              "partitioner": "murmur2_random", "linger.ms": 5, "message.timeout.ms": 300000})
RATE = 5000  # records/s: the input keeps flowing, so a transaction is open most of the time


def produce():
    t0 = time.time()
    for n, (k, i, v) in enumerate(records):
        while True:
            try:
                p.produce("in", key=k, value=json.dumps({"ID": i, "V": v}))
                break
            except BufferError:
                p.poll(0.05)
        if n % 100 == 99:
            p.poll(0)
            ahead = t0 + (n + 1) / RATE - time.time()
            if ahead > 0:
                time.sleep(ahead)


feeder = threading.Thread(target=produce)
feeder.start()
span = N / RATE
for k in range(KILLS):  # spread over the input's span, each at a random moment of its slot
    time.sleep(rnd.uniform(0.3, span / KILLS))
    kill()
    print(f"kill {kills} at {time.time() - T0:.1f} s", flush=True)
    start()
feeder.join()
if p.flush(120) != 0:
    sys.exit("FAIL: the input was not all delivered")

# ---- the checks -----------------------------------------------------------------------------
def read(topic, isolation, want, quiet=3.0, limit=180):
    """Every record of topic's partitions until `want` have come (or nothing new for `quiet`
    seconds after that): {partition: [(key, value), ...]}."""
    c = Consumer({"bootstrap.servers": BOOT, "group.id": f"eos-read-{topic}-{time.time()}",
                  "enable.auto.commit": False, "isolation.level": isolation,
                  "auto.offset.reset": "earliest"})
    c.assign([TopicPartition(topic, p, 0) for p in range(PARTS)])
    out = {p: [] for p in range(PARTS)}
    n, last, t0 = 0, time.time(), time.time()
    while time.time() - t0 < limit:
        m = c.poll(0.2)
        if m is not None and not m.error():
            out[m.partition()].append((m.key(), m.value()))
            n += 1
            last = time.time()
        elif n >= want and time.time() - last > quiet:
            break
    c.close()
    return out


inp = read("in", "read_uncommitted", N, quiet=1.0)
if sum(len(v) for v in inp.values()) != N:  # the broker's idempotence, not the queries
    failures.append(f"the input topic holds {sum(len(v) for v in inp.values())} records, not "
                    f"{N}: the idempotent producer's retries after a kill were appended twice")
# the queries are judged against what the input topic holds
echo = read("ECHO", "read_committed", N)
got = sum(len(v) for v in echo.values())
for p in range(PARTS):
    a = [(k, json.loads(v)) for k, v in inp[p]]
    b = [(k, json.loads(v)) for k, v in echo[p]]
    if a != b:
        i = next((j for j in range(min(len(a), len(b))) if a[j] != b[j]), min(len(a), len(b)))
        failures.append(f"ECHO partition {p} differs from the input at record {i}: "
                        f"{len(b)} records against {len(a)}; "
                        f"input {a[i] if i < len(a) else None}, echo {b[i] if i < len(b) else None}")
print(f"ECHO: {got} records over {PARTS} partitions (the input topic: "
      f"{sum(len(v) for v in inp.values())})")

db = sqlite3.connect(":memory:")
db.execute("CREATE TABLE i (k TEXT, id INTEGER, v INTEGER)")
for p in range(PARTS):
    db.executemany("INSERT INTO i VALUES (?, ?, ?)",
                   [(k.decode(), json.loads(v)["ID"], json.loads(v)["V"]) for k, v in inp[p]])
want = {k: (c, s) for k, c, s in db.execute("SELECT k, COUNT(*), SUM(v) FROM i GROUP BY k")}

deadline = time.time() + 60
while True:
    with committed_mu:
        last = {}
    agg = read("AGG", "read_committed", 1, quiet=1.0, limit=30)
    for p in range(PARTS):
        for k, v in agg[p]:
            x = json.loads(v)
            last[k.decode()] = (x["C"], x["S"])
    if last == want or time.time() > deadline:
        break
    time.sleep(1)
if last != want:
    bad = sorted(k for k in set(want) | set(last) if want.get(k) != last.get(k))[:5]
    failures.append("AGG's topic differs from sqlite3 for " +
                    ", ".join(f"{k}: {last.get(k)} against {want.get(k)}" for k in bad))
scan = {r[0]: (r[1], r[2]) for r in pull("SELECT * FROM AGG;")}
if scan != want:
    bad = sorted(k for k in set(want) | set(scan) if want.get(k) != scan.get(k))[:5]
    failures.append("a pull query over AGG differs from sqlite3 for " +
                    ", ".join(f"{k}: {scan.get(k)} against {want.get(k)}" for k in bad))
stop.set()
for t in threads:
    t.join(10)
if judged[0] < 50:
    failures.append(f"only {judged[0]} pull-query rows could be judged")
server.send_signal(signal.SIGTERM)
server.wait(60)
if failures:
    for f in failures[:20]:
        print("FAIL:", f)
    sys.exit(1)
print(f"ok   exactly-once: {N} records, {kills} SIGKILLs of the server; ECHO equals the input "
      f"record for record; AGG's {len(want)} rows (topic and pull query) equal sqlite3's; "
      f"{judged[0]} pull-query rows were all committed ones")
