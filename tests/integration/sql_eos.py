#!/usr/bin/env python3
"""sql_eos.py WEIR_BINARY DIR [KILLS] - the exactly-once SQL test.

Three queries run at once under exactly_once_v2 (weir's default) over a 4-partition stream of
100,000 JSON records that an idempotent producer writes at 5,000 a second: a CSAS echo, a CTAS
per-key count/sum and a CTAS per-key count/sum over 10-second tumbling windows of the records'
own timestamps. While the records flow in (and the queries work on them, mid-transaction) the
server is killed with SIGKILL at random moments (KILLS times, default 10) and restarted, with
the default log.flush.policy (sync). Each restart also arms one of the binary's crash points
(WEIR_FAULT=kill.*, src/base/fault.h), so that some of the deaths fall where an outside kill
lands only by luck: between a transaction's markers, after the markers and before the
Complete state, after a task's changelog joined its transaction and before EndTxn, after
EndTxn and before the state store's write, in a log append before its fsync, and in the
middle of a changelog restore (once the input is in, the state stores are deleted before a
restart, which dies restoring them from their changelogs; a server that dies at its crash
point between two kills is started again at once by a watchdog, unarmed, and the checks run
against a last, unarmed start). Meanwhile a client asks pull queries of the table, and each value a pull query
returns must already be committed: a read_committed consumer of the table's topic must hold
that very row (the transaction's markers are written before the store sees the state). At
the end:
  - every partition of every output topic and changelog has its last stable offset at its
    high watermark (no transaction is left open: an open one would hold read_committed
    readers, weir's own restores included, back for good);
  - ECHO equals the input record for record, partition by partition, in order (no loss, no
    duplicate: the counts of both are printed);
  - the tables' rows, read from their topics (read_committed) and by pull queries over the
    whole tables, equal sqlite3's GROUP BY over the input;
  - at least 3 of the deaths came from the crash points (else the run proved less than it
    says).
SQL_EOS_GUARANTEE=at_least_once runs the same queries at-least-once, to show what it catches.
"""
import http.client
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

from confluent_kafka import Consumer, Producer, TopicPartition

WEIR, DIR = sys.argv[1], sys.argv[2]
KILLS = int(sys.argv[3]) if len(sys.argv) > 3 else 10
N, KEYS, PARTS = 100_000, 200, 4
BASE_TS, WINDOW = 1_700_000_000_000, 10_000  # each record's TS: BASE_TS + 2 ms * its id
rnd = random.Random(int(os.environ.get("SQL_EOS_SEED", "20261123")))
frnd = random.Random(rnd.random())
# crash points and how many passes of each to let go by before the kill (about a second of
# work at this rate; a server killed from outside first is no loss)
CRASH = {"kill.marker": 40, "kill.complete": 20, "kill.commit.log": 20,
         "kill.commit.state": 12, "kill.append": 200}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


KPORT, HPORT = free_port(), free_port()
BOOT = f"127.0.0.1:{KPORT}"
server = None
kills = 0  # bumped before each death: observations that straddle one are not judged
crashes = 0  # deaths at an armed crash point
server_mu = threading.RLock()  # start, kill and the watchdog take turns


def start(fault=None):
    """Starts the server (fault: 'site:after:1' armed in it); one that dies at its crash point
    while starting (a restore, a marker of the start's recovery) is started again unarmed."""
    global server, crashes
    with server_mu:
        start_locked(fault)


def start_locked(fault):
    global server, crashes
    log = open(os.path.join(DIR, "server.log"), "a")
    env = dict(os.environ)
    env.pop("WEIR_FAULT", None)
    if fault:
        env["WEIR_FAULT"] = fault
    server = subprocess.Popen([WEIR, "server", "--data-dir", os.path.join(DIR, "data"),
                               "--kafka-listen", BOOT, "--http-listen", f"127.0.0.1:{HPORT}",
                               # SQL_EOS_GUARANTEE=at_least_once shows what the test catches
                               "--property", "ksql.streams.processing.guarantee=" +
                               os.environ.get("SQL_EOS_GUARANTEE", "exactly_once_v2")],
                              stdout=log, stderr=subprocess.STDOUT, env=env)
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", HPORT), 0.2).close()
            socket.create_connection(("127.0.0.1", KPORT), 0.2).close()
            return
        except OSError:
            if server.poll() is not None:
                break
            time.sleep(0.1)
    if fault and server.returncode == -signal.SIGKILL:
        crashes += 1
        return start_locked(None)
    print("FAIL: the server did not start", flush=True)
    os._exit(1)


def random_fault():
    site = frnd.choice(sorted(CRASH))
    return f"{site}:{frnd.randrange(CRASH[site])}:1"


def kill():
    """SIGKILL, unless the server died at its crash point already. The caller starts it again,
    holding server_mu from before the kill until then (so the watchdog keeps out)."""
    global kills, crashes
    kills += 1
    if server.poll() is None:
        server.send_signal(signal.SIGKILL)
    elif server.returncode == -signal.SIGKILL:
        crashes += 1
    else:
        print(f"FAIL: the server exited by itself with {server.returncode}", flush=True)
        os._exit(1)
    server.wait()


def restart(fault):
    """A kill and a start as one step."""
    with server_mu:
        kill()
        start_locked(fault)


watching = threading.Event()


def watchdog():
    """A server that died at its crash point between two kills is started again, unarmed, so the
    producer and the checks always find one soon."""
    global kills, crashes
    while watching.is_set():
        time.sleep(0.1)
        with server_mu:
            if server is not None and server.poll() is not None:
                if server.returncode != -signal.SIGKILL:
                    print(f"FAIL: the server exited by itself with {server.returncode}",
                          flush=True)
                    os._exit(1)
                kills += 1
                crashes += 1
                print(f"the server died at its crash point ({time.time() - T0:.1f} s); "
                      f"started again", flush=True)
                start_locked(None)


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
CREATE STREAM IN_S (K STRING KEY, ID BIGINT, V INT, TS BIGINT)
  WITH (KAFKA_TOPIC='in', VALUE_FORMAT='JSON', PARTITIONS={PARTS}, TIMESTAMP='TS');
CREATE STREAM ECHO AS SELECT * FROM IN_S;
CREATE TABLE AGG AS SELECT K, COUNT(*) AS C, SUM(V) AS S FROM IN_S GROUP BY K;
CREATE TABLE WIN AS SELECT K, COUNT(*) AS C, SUM(V) AS S FROM IN_S
  WINDOW TUMBLING (SIZE {WINDOW // 1000} SECONDS) GROUP BY K;
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
                p.produce("in", key=k, value=json.dumps({"ID": i, "V": v, "TS": BASE_TS + 2 * i}))
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
watching.set()
threading.Thread(target=watchdog, daemon=True).start()
for k in range(KILLS):  # spread over the input's span, each at a random moment of its slot
    time.sleep(rnd.uniform(0.3, span / KILLS))
    fault = random_fault()
    print(f"kill {kills + 1} at {time.time() - T0:.1f} s; the restart arms {fault}", flush=True)
    restart(fault)
feeder.join()
if p.flush(120) != 0:
    sys.exit("FAIL: the input was not all delivered")
# kills while the queries catch up; before the second restart the state stores are lost (a
# task moved to a new machine), so it restores them from their changelogs, and dies in the
# middle of that; the restart after it restores the rest
for lose_state in (False, True):
    time.sleep(rnd.uniform(0.5, 1.5))
    fault = "kill.restore:2:1" if lose_state else random_fault()
    print(f"kill {kills + 1} (input done) at {time.time() - T0:.1f} s; state "
          f"{'lost' if lose_state else 'kept'}; the restart arms {fault}", flush=True)
    with server_mu:
        kill()
        if lose_state:
            shutil.rmtree(os.path.join(DIR, "data", "state"))
        start_locked(fault)
# the server the checks run against has no crash point armed
time.sleep(1)
watching.clear()
print(f"kill {kills + 1} (input done) at {time.time() - T0:.1f} s; the restart arms nothing",
      flush=True)
restart(None)

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


def high_marks(isolation):
    c = Consumer({"bootstrap.servers": BOOT, "group.id": f"eos-marks-{time.time()}",
                  "isolation.level": isolation})
    out = {}
    for t in md_topics:
        for q in range(PARTS):
            out[(t, q)] = c.get_watermark_offsets(TopicPartition(t, q), timeout=10,
                                                  cached=False)[1]
    c.close()
    return out


# every output and changelog partition: once the queries have caught up, nothing is left open
admin = Consumer({"bootstrap.servers": BOOT, "group.id": "eos-md"})
md_topics = sorted(t for t in admin.list_topics(timeout=10).topics
                   if t in ("ECHO", "AGG", "WIN") or t.endswith("-changelog"))
admin.close()
if len(md_topics) != 5:
    failures.append(f"expected ECHO, AGG, WIN and two changelogs, found {md_topics}")
deadline = time.time() + 60
while True:
    hw, lso = high_marks("read_uncommitted"), high_marks("read_committed")
    stuck = {tp: (lso[tp], hw[tp]) for tp in hw if lso[tp] != hw[tp]}
    if not stuck or time.time() > deadline:
        break
    time.sleep(1)
for (t, q), (a, b) in sorted(stuck.items()):
    failures.append(f"{t}-{q}: the last stable offset stays at {a} below the high watermark {b} "
                    f"(a transaction left open)")
print(f"last stable offsets: {len(hw) - len(stuck)} of {len(hw)} partitions of {md_topics} at "
      f"their high watermarks")

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
ids_in = {json.loads(v)["ID"] for q in inp for _, v in inp[q]}
ids_echo = [json.loads(v)["ID"] for q in echo for _, v in echo[q]]
print(f"ECHO: {got} records over {PARTS} partitions (the input topic: "
      f"{sum(len(v) for v in inp.values())}); lost {len(ids_in - set(ids_echo))}, "
      f"duplicated {len(ids_echo) - len(set(ids_echo))}")

db = sqlite3.connect(":memory:")
db.execute("CREATE TABLE i (k TEXT, id INTEGER, v INTEGER, ts INTEGER)")
for p in range(PARTS):
    db.executemany("INSERT INTO i VALUES (?, ?, ?, ?)",
                   [(k.decode(), x["ID"], x["V"], x["TS"])
                    for k, x in ((k, json.loads(v)) for k, v in inp[p])])
want = {k: (c, s) for k, c, s in db.execute("SELECT k, COUNT(*), SUM(v) FROM i GROUP BY k")}
want_win = {(k, w): (c, s) for k, w, c, s in db.execute(
    f"SELECT k, ts / {WINDOW} * {WINDOW} AS w, COUNT(*), SUM(v) FROM i GROUP BY k, w")}


def table_rows(topic, keyf):
    """The last row of each key of a table's topic (read_committed), once it equals what it
    should or a minute has passed."""
    target = want if topic == "AGG" else want_win
    deadline = time.time() + 60
    while True:
        last = {}
        t = read(topic, "read_committed", 1, quiet=1.0, limit=30)
        for p in range(PARTS):
            for k, v in t[p]:
                if v is not None:
                    x = json.loads(v)
                    last[keyf(k)] = (x["C"], x["S"])
        if last == target or time.time() > deadline:
            return last
        time.sleep(1)


def compare(what, got, target):
    if got != target:
        bad = sorted((k for k in set(target) | set(got) if target.get(k) != got.get(k)),
                     key=str)
        failures.append(f"{what} differs from sqlite3 for {len(bad)} keys: " +
                        ", ".join(f"{k}: {got.get(k)} against {target.get(k)}" for k in bad[:5]))


compare("AGG's topic", table_rows("AGG", lambda k: k.decode()), want)
# a windowed key is the key's bytes, then the window start (8 bytes, big-endian)
compare("WIN's topic", table_rows("WIN", lambda k: (k[:-8].decode(),
                                                     int.from_bytes(k[-8:], "big"))), want_win)
compare("a pull query over AGG", {r[0]: (r[1], r[2]) for r in pull("SELECT * FROM AGG;")}, want)
compare("a pull query over WIN", {(r[0], r[1]): (r[3], r[4]) for r in pull("SELECT * FROM WIN;")},
        want_win)
stop.set()
for t in threads:
    t.join(10)
if judged[0] < 50:
    failures.append(f"only {judged[0]} pull-query rows could be judged")
if crashes < 3 and os.environ.get("SQL_EOS_GUARANTEE", "") != "at_least_once":
    failures.append(f"only {crashes} of the {kills} deaths came from the crash points")
server.send_signal(signal.SIGTERM)
server.wait(60)
if failures:
    for f in failures[:20]:
        print("FAIL:", f)
    sys.exit(1)
print(f"ok   exactly-once: {N} records, {kills} deaths of the server ({crashes} at crash points); "
      f"no transaction left open; ECHO equals the input record for record; AGG's {len(want)} "
      f"and WIN's {len(want_win)} rows (topics and pull queries) equal sqlite3's; "
      f"{judged[0]} pull-query rows were all committed ones")
