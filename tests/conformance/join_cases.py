"""weir's own conformance cases for joins (issue 7), used by gen_cases.py.

Two kinds of cases:
  - written out by hand: one behaviour each (n-way joins, repartitioning, naming, errors);
  - generated: seeded random inputs through a small model of each join kind's semantics
    (stream-table, table-table, stream-stream with and without a grace period, foreign key),
    the expected outputs being what the model emits. The model is written from ksqlDB's and
    Kafka Streams' documented semantics, independently of runtime/join.c.
"""
import random

S = "CREATE STREAM S (ID BIGINT KEY, A STRING) WITH (kafka_topic='s', value_format='JSON'{p});"
S2 = "CREATE STREAM S2 (ID BIGINT KEY, B STRING) WITH (kafka_topic='s2', value_format='JSON'{p});"
T = "CREATE TABLE T (ID BIGINT PRIMARY KEY, C STRING) WITH (kafka_topic='t', value_format='JSON'{p});"
T2 = "CREATE TABLE T2 (ID BIGINT PRIMARY KEY, D STRING) WITH (kafka_topic='t2', value_format='JSON'{p});"
O = "CREATE TABLE O (OID BIGINT PRIMARY KEY, CID BIGINT, AMT INT) WITH (kafka_topic='o', value_format='JSON'{p});"
C = "CREATE TABLE C (CID BIGINT PRIMARY KEY, NAME STRING) WITH (kafka_topic='c', value_format='JSON'{p});"


def src(stmt, parts=None):
    return stmt.format(p=f", partitions={parts}" if parts else "")


def murmur2(data):
    """Kafka's murmur2 (the default partitioner's hash)."""
    m, h = 0x5BD1E995, 0x9747B28C ^ len(data)
    for i in range(len(data) // 4):
        k = int.from_bytes(data[4 * i:4 * i + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> 24
        k = (k * m) & 0xFFFFFFFF
        h = ((h * m) & 0xFFFFFFFF) ^ k
    rest, idx = len(data) % 4, len(data) & ~3
    if rest == 3:
        h ^= data[idx + 2] << 16
    if rest >= 2:
        h ^= data[idx + 1] << 8
    if rest >= 1:
        h ^= data[idx]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h


def part_of(key, parts):
    """The partition of a BIGINT key in the KAFKA format (8 bytes, big-endian)."""
    if key is None or parts == 1:
        return 0
    return (murmur2(key.to_bytes(8, "big", signed=True)) & 0x7FFFFFFF) % parts


def inp(topic, key, value, ts):
    return {"topic": topic, "key": key, "value": value, "timestamp": ts}


def outp(key, value, ts, topic="OUTPUT"):
    return {"topic": topic, "key": key, "value": value, "timestamp": ts}


def by_partition(outs, parts):
    """Outputs as weir-qtt reads them back: partition by partition, in order within each."""
    return sorted(outs, key=lambda o: part_of(o["key"], parts))


def by_str_partition(outs, parts):
    """The same, for STRING keys in the KAFKA format (their UTF-8 bytes)."""
    return sorted(outs, key=lambda o: (murmur2(o["key"].encode()) & 0x7FFFFFFF) % parts)


def case(name, stmts, inputs, outputs, parts=None):
    c = {"name": name, "statements": stmts, "inputs": inputs, "outputs": outputs}
    if parts:
        topics = sorted({i["topic"] for i in inputs})
        c["topics"] = [{"name": t, "partitions": parts} for t in topics]
    return c


def err(name, stmts, message, topics=None):
    e = {"name": name, "statements": stmts,
         "expectedException": {"type": "KsqlStatementException", "message": message}}
    if topics:
        e["topics"] = [{"name": t, "partitions": p} for t, p in topics.items()]
    return e


# ---- models -----------------------------------------------------------------------------------

def model_stream_table(events, jtype):
    table, outs = {}, []
    for topic, k, v, ts in events:
        if topic == "t":
            if v is None:
                table.pop(k, None)
            else:
                table[k] = v
        elif v is not None:  # a stream's tombstone is skipped
            if k in table:
                outs.append(outp(k, {"A": v["A"], "C": table[k]["C"]}, ts))
            elif jtype == "LEFT":
                outs.append(outp(k, {"A": v["A"], "C": None}, ts))
    return outs


def model_table_table(events, jtype):
    rows = {"t": {}, "t2": {}}
    outs = []
    outer = {"t": jtype in ("LEFT", "FULL"), "t2": jtype in ("RIGHT", "FULL")}
    for topic, k, v, ts in events:
        other = "t2" if topic == "t" else "t"
        own = rows[topic]
        existed = k in own
        if v is None and not existed:
            continue
        if v is None:
            del own[k]
        else:
            own[k] = (v, ts)
        o = rows[other].get(k)
        left = own.get(k) if topic == "t" else o
        right = o if topic == "t" else own.get(k)
        when = max(ts, o[1]) if o else ts
        def val(l, r):
            return {"C": l[0]["C"] if l else None, "D": r[0]["D"] if r else None}
        if v is not None:
            if o or outer[topic]:
                outs.append(outp(k, val(left, right), when))
        elif o and outer[other]:
            outs.append(outp(k, val(left, right), when))
        elif o or outer[topic]:
            outs.append(outp(k, None, ts))
    return outs


def model_stream_stream(events, jtype, before, after, grace):
    """Kafka Streams' KStreamKStreamJoin: without a grace period (ksqlDB's default, 24 hours of
    retention) outer rows come out at once; with one they wait for their window to close."""
    eager = grace is None
    g = 24 * 3600 * 1000 if eager else grace
    buf = {"s": [], "s2": []}
    pending = []  # (ts, side, seq, key, value)
    now, seq, outs = None, 0, []
    outer = {"s": jtype in ("LEFT", "FULL"), "s2": jtype in ("RIGHT", "FULL")}

    def row(side, v, ov):
        a = v["A"] if side == "s" else (ov["A"] if ov else None)
        b = v["B"] if side == "s2" else (ov["B"] if ov else None)
        return {"A": a, "B": b}

    for topic, k, v, ts in events:
        if v is None:
            continue
        now = ts if now is None or ts > now else now
        if ts < now - (before + after + g):
            continue  # late
        if not eager and ts == now:
            closed = [p for p in pending
                      if p[0] + (after if p[1] == "s" else before) + g < now]
            for p in sorted(closed, key=lambda p: (p[0], p[1] == "s2", p[2])):
                pending.remove(p)
                outs.append(outp(p[3], row(p[1], p[4], None), p[0]))
        other = "s2" if topic == "s" else "s"
        lo, hi = (ts - before, ts + after) if topic == "s" else (ts - after, ts + before)
        buf[topic].append((k, ts, seq, v))
        matches = sorted([x for x in buf[other] if x[0] == k and lo <= x[1] <= hi],
                         key=lambda x: (x[1], x[2]))
        for mk, mts, mseq, mv in matches:
            pending[:] = [p for p in pending if not (p[1] == other and p[2] == mseq)]
            outs.append(outp(k, row(topic, v, mv), max(ts, mts)))
        if not matches and outer[topic]:
            if eager or hi + g < now:
                outs.append(outp(k, row(topic, v, None), ts))
            else:
                pending.append((ts, topic, seq, k, v))
        seq += 1
        for side in buf:  # rows behind the window and grace are dropped
            buf[side] = [x for x in buf[side] if x[1] >= now - (before + after + g)]
    return outs


def model_fk(events, jtype):
    left, right, outs = {}, {}, []
    for topic, k, v, ts in events:
        if topic == "o":
            existed = k in left
            if v is None:
                if existed:
                    del left[k]
                    outs.append(outp(k, None, ts))
                continue
            left[k] = (v, ts)
            r = right.get(v["CID"]) if v["CID"] is not None else None
            if r:
                outs.append(outp(k, {"AMT": v["AMT"], "NAME": r[0]["NAME"]}, max(ts, r[1])))
            elif jtype == "LEFT":
                outs.append(outp(k, {"AMT": v["AMT"], "NAME": None}, ts))
            elif existed:
                outs.append(outp(k, None, ts))
        else:
            if v is None:
                if k not in right:
                    continue
                del right[k]
            else:
                right[k] = (v, ts)
            for ok in sorted(left):
                lv, lts = left[ok]
                if lv["CID"] != k:
                    continue
                if v is not None:
                    outs.append(outp(ok, {"AMT": lv["AMT"], "NAME": v["NAME"]}, max(ts, lts)))
                elif jtype == "LEFT":
                    outs.append(outp(ok, {"AMT": lv["AMT"], "NAME": None}, max(ts, lts)))
                else:
                    outs.append(outp(ok, None, ts))
    return outs


# ---- random inputs ---------------------------------------------------------------------------

def rand_events(rng, topics, n, keys=(1, 2, 3), deletes=True, jitter=0, step=1000):
    ev, ts = [], 0
    for i in range(n):
        topic = rng.choice(topics)
        k = rng.choice(keys)
        ts += rng.randint(0, step)
        t = max(0, ts - rng.randint(0, jitter)) if jitter else ts
        if deletes and rng.random() < 0.2:
            v = None
        else:
            col = {"s": "A", "s2": "B", "t": "C", "t2": "D"}[topic]
            v = {col: f"{col.lower()}{i}"}
        ev.append((topic, k, v, t))
    return ev


def as_inputs(events):
    return [inp(t, k, v, ts) for t, k, v, ts in events]


def generated():
    cases = []
    # stream-table
    for jtype in ("INNER", "LEFT"):
        for seed in range(10):
            rng = random.Random(1000 + seed)
            parts = 2 if seed % 3 == 2 else None
            ev = rand_events(rng, ["s", "t", "t"], 14)
            q = f"CREATE STREAM OUTPUT AS SELECT S.ID, A, C FROM S {jtype} JOIN T ON S.ID = T.ID;"
            outs = model_stream_table(ev, jtype)
            cases.append(case(f"stream-table {jtype} join, random inputs {seed}" + (" (2 partitions)" if parts else ""),
                              [src(S, parts), src(T, parts), q], as_inputs(ev), by_partition(outs, parts or 1), parts))
    # table-table on the key
    for jtype in ("INNER", "LEFT", "RIGHT", "FULL"):
        for seed in range(8):
            rng = random.Random(2000 + seed)
            parts = 2 if seed % 4 == 3 else None
            ev = rand_events(rng, ["t", "t2"], 14)
            key = {"INNER": "T.ID", "LEFT": "T.ID", "RIGHT": "T2.ID", "FULL": "ROWKEY AS ID"}[jtype]
            kw = "FULL OUTER" if jtype == "FULL" else jtype
            q = f"CREATE TABLE OUTPUT AS SELECT {key}, C, D FROM T {kw} JOIN T2 ON T.ID = T2.ID;"
            outs = model_table_table(ev, jtype)
            cases.append(case(f"table-table {jtype} join, random inputs {seed}" + (" (2 partitions)" if parts else ""),
                              [src(T, parts), src(T2, parts), q], as_inputs(ev), by_partition(outs, parts or 1), parts))
    # stream-stream, without and with a grace period
    for jtype in ("INNER", "LEFT", "RIGHT", "FULL"):
        for grace in (None, 0, 2000):
            for seed in range(4):
                rng = random.Random(3000 + seed * 7 + (grace or 1))
                before, after = [(3000, 3000), (1000, 4000), (5000, 0), (2000, 2000)][seed]
                ev = rand_events(rng, ["s", "s2"], 14, deletes=False, jitter=2500, step=1500)
                key = {"INNER": "S.ID", "LEFT": "S.ID", "RIGHT": "S2.ID", "FULL": "ROWKEY AS ID"}[jtype]
                kw = "FULL OUTER" if jtype == "FULL" else jtype
                within = f"({before} MILLISECONDS, {after} MILLISECONDS)" if before != after else f"{before} MILLISECONDS"
                gp = f" GRACE PERIOD {grace} MILLISECONDS" if grace is not None else ""
                q = f"CREATE STREAM OUTPUT AS SELECT {key}, A, B FROM S {kw} JOIN S2 WITHIN {within}{gp} ON S.ID = S2.ID;"
                outs = model_stream_stream(ev, jtype, before, after, grace)
                cases.append(case(f"stream-stream {jtype} join within ({before}, {after}) grace {grace}, random inputs {seed}",
                                  [src(S), src(S2), q], as_inputs(ev), outs))
    # foreign key
    for jtype in ("INNER", "LEFT"):
        for seed in range(8):
            rng = random.Random(4000 + seed)
            ev, ts = [], 0
            for i in range(14):
                ts += rng.randint(0, 1000)
                if rng.random() < 0.55:
                    k = rng.choice((1, 2, 3))
                    v = None if rng.random() < 0.15 else {"CID": rng.choice((7, 8, None)) if rng.random() < 0.1 else rng.choice((7, 8)), "AMT": i}
                    ev.append(("o", k, v, ts))
                else:
                    k = rng.choice((7, 8))
                    v = None if rng.random() < 0.2 else {"NAME": f"n{i}"}
                    ev.append(("c", k, v, ts))
            q = f"CREATE TABLE OUTPUT AS SELECT OID, AMT, NAME FROM O {jtype} JOIN C ON O.CID = C.CID;"
            outs = model_fk(ev, jtype)
            cases.append(case(f"foreign-key {jtype} join, random inputs {seed}", [src(O), src(C), q], as_inputs(ev), outs))
    return cases


S3 = "CREATE STREAM S3 (ID BIGINT KEY, K BIGINT, A STRING) WITH (kafka_topic='s3', value_format='JSON'{p});"
T3 = "CREATE TABLE T3 (ID BIGINT PRIMARY KEY, E STRING) WITH (kafka_topic='t3', value_format='JSON'{p});"
ST = [src(S), src(T)]


def by_hand():
    a = lambda k, v, ts: inp("s", k, {"A": v}, ts)
    c = lambda k, v, ts: inp("t", k, None if v is None else {"C": v}, ts)
    return [
        case("select star names every column <source>_<column>", ST + [
            "CREATE STREAM OUTPUT AS SELECT * FROM S JOIN T ON S.ID = T.ID;"],
            [c(1, "c", 0), a(1, "a", 5)], [outp(1, {"S_A": "a", "T_ID": 1, "T_C": "c"}, 5)]),
        case("aliases qualify the columns", ST + [
            "CREATE STREAM OUTPUT AS SELECT X.ID, X.A, Y.C FROM S X JOIN T Y ON X.ID = Y.ID;"],
            [c(1, "c", 0), a(1, "a", 5)], [outp(1, {"A": "a", "C": "c"}, 5)]),
        case("s.* takes one side's columns", ST + [
            "CREATE STREAM OUTPUT AS SELECT S.ID, T.* FROM S JOIN T ON S.ID = T.ID;"],
            [c(1, "c", 0), a(1, "a", 5)], [outp(1, {"T_ID": 1, "T_C": "c"}, 5)]),
        case("the table's key column can be the key", ST + [
            "CREATE STREAM OUTPUT AS SELECT T.ID, A FROM S JOIN T ON S.ID = T.ID;"],
            [c(1, "c", 0), a(1, "a", 5)], [outp(1, {"A": "a"}, 5)]),
        case("where filters the joined rows", ST + [
            "CREATE STREAM OUTPUT AS SELECT S.ID, A FROM S LEFT JOIN T ON S.ID = T.ID WHERE C IS NOT NULL;"],
            [c(1, "c", 0), a(1, "a", 5), a(2, "b", 6)], [outp(1, {"A": "a"}, 5)]),
        case("expressions over both sides", ST + [
            "CREATE STREAM OUTPUT AS SELECT S.ID, CONCAT(A, '-', C) AS AC, ROWTIME AS RT FROM S JOIN T ON S.ID = T.ID;"],
            [c(1, "c", 0), a(1, "a", 5)], [outp(1, {"AC": "a-c", "RT": 5}, 5)]),
        case("a table update does not emit, the next stream record sees it", ST + [
            "CREATE STREAM OUTPUT AS SELECT S.ID, A, C FROM S JOIN T ON S.ID = T.ID;"],
            [c(1, "c1", 0), a(1, "a", 5), c(1, "c2", 6), a(1, "b", 7), c(1, None, 8), a(1, "x", 9)],
            [outp(1, {"A": "a", "C": "c1"}, 5), outp(1, {"A": "b", "C": "c2"}, 7)]),
        case("a stream record before the table's row does not join", ST + [
            "CREATE STREAM OUTPUT AS SELECT S.ID, A, C FROM S LEFT JOIN T ON S.ID = T.ID;"],
            [a(1, "a", 5), c(1, "c", 6), a(1, "b", 7)],
            [outp(1, {"A": "a", "C": None}, 5), outp(1, {"A": "b", "C": "c"}, 7)]),
        case("the stream side repartitioned by a value column", [src(S3), src(T),
            "CREATE STREAM OUTPUT AS SELECT S3.K, A, C FROM S3 JOIN T ON S3.K = T.ID;"],
            [c(1, "c", 0), inp("s3", 10, {"K": 1, "A": "a"}, 5), inp("s3", 11, {"K": 2, "A": "b"}, 6)],
            [outp(1, {"A": "a", "C": "c"}, 5)]),
        case("repartition over two partitions keeps every key's order", [src(S3, 2), src(T, 2),
            "CREATE STREAM OUTPUT AS SELECT S3.K, S3.ID AS SID, C FROM S3 JOIN T ON S3.K = T.ID;"],
            [c(1, "c1", 0), c(2, "c2", 0), c(3, "c3", 0)] +
            [inp("s3", 100 + i, {"K": 1 + i % 3, "A": "x"}, 10 + i) for i in range(6)],
            by_partition([outp(1 + i % 3, {"SID": 100 + i, "C": f"c{1 + i % 3}"}, 10 + i) for i in range(6)], 2), 2),
        case("a record whose join key is null is dropped by the repartition", [src(S3), src(T),
            "CREATE STREAM OUTPUT AS SELECT S3.K, A, C FROM S3 LEFT JOIN T ON S3.K = T.ID;"],
            [inp("s3", 10, {"K": None, "A": "a"}, 5), inp("s3", 11, {"K": 4, "A": "b"}, 6)],
            [outp(4, {"A": "b", "C": None}, 6)]),
        case("stream-stream join on an expression of the right's key", [src(S), src(S2),
            "CREATE STREAM OUTPUT AS SELECT S.ID, A, B FROM S JOIN S2 WITHIN 10 SECONDS ON S.ID = ABS(S2.ID);"],
            [inp("s", 3, {"A": "a"}, 0), inp("s2", -3, {"B": "b"}, 100)], [outp(3, {"A": "a", "B": "b"}, 100)]),
        case("stream-table-table in one statement", [src(S), src(T), src(T2),
            "CREATE STREAM OUTPUT AS SELECT S.ID, A, C, D FROM S JOIN T ON S.ID = T.ID LEFT JOIN T2 ON S.ID = T2.ID;"],
            [c(1, "c", 0), a(1, "a", 5), inp("t2", 1, {"D": "d"}, 6), a(1, "b", 7), a(2, "z", 8)],
            [outp(1, {"A": "a", "C": "c", "D": None}, 5), outp(1, {"A": "b", "C": "c", "D": "d"}, 7)]),
        case("stream-stream-table in one statement", [src(S), src(S2), src(T),
            "CREATE STREAM OUTPUT AS SELECT S.ID, A, B, C FROM S JOIN S2 WITHIN 10 SECONDS ON S.ID = S2.ID JOIN T ON S.ID = T.ID;"],
            [c(1, "c", 0), a(1, "a", 10), inp("s2", 1, {"B": "b"}, 11), inp("s2", 1, {"B": "b2"}, 20000)],
            [outp(1, {"A": "a", "B": "b", "C": "c"}, 11)]),
        case("full outer stream-stream, then a stream-table join on the left's key", [src(S), src(S2), src(T),
            "CREATE STREAM OUTPUT AS SELECT S.ID, A, B, C FROM S FULL OUTER JOIN S2 WITHIN 10 SECONDS ON S.ID = S2.ID JOIN T ON S.ID = T.ID;"],
            [c(0, "c", 10), inp("s2", 0, {"B": "b"}, 11), a(0, "a", 12), a(0, "a2", 100000)],
            [outp(0, {"A": "a", "B": "b", "C": "c"}, 12), outp(0, {"A": "a2", "B": None, "C": "c"}, 100000)]),
        case("table-table-table", [src(T), src(T2), src(T3),
            "CREATE TABLE OUTPUT AS SELECT T.ID, C, D, E FROM T JOIN T2 ON T.ID = T2.ID LEFT JOIN T3 ON T.ID = T3.ID;"],
            [c(0, "c", 0), inp("t2", 0, {"D": "d"}, 1), inp("t3", 0, {"E": "e"}, 2), c(0, "c2", 3), inp("t2", 0, None, 4)],
            [outp(0, {"C": "c", "D": "d", "E": None}, 1), outp(0, {"C": "c", "D": "d", "E": "e"}, 2),
             outp(0, {"C": "c2", "D": "d", "E": "e"}, 3), outp(0, None, 4)]),
        case("a table-table join, then a foreign-key join", [src(T), src(O), src(C),
            "CREATE TABLE OUTPUT AS SELECT OID, AMT, NAME FROM O JOIN C ON O.CID = C.CID;"],
            [inp("c", 7, {"NAME": "ann"}, 0), inp("o", 1, {"CID": 7, "AMT": 5}, 1), inp("o", 2, {"CID": 7, "AMT": 6}, 2),
             inp("c", 7, {"NAME": "bea"}, 3), inp("c", 7, None, 4)],
            [outp(1, {"AMT": 5, "NAME": "ann"}, 1), outp(2, {"AMT": 6, "NAME": "ann"}, 2),
             outp(1, {"AMT": 5, "NAME": "bea"}, 3), outp(2, {"AMT": 6, "NAME": "bea"}, 3),
             outp(1, None, 4), outp(2, None, 4)]),
        case("a foreign key that changes retracts the old result and joins the new row", [src(O), src(C),
            "CREATE TABLE OUTPUT AS SELECT OID, AMT, NAME FROM O LEFT JOIN C ON O.CID = C.CID;"],
            [inp("c", 7, {"NAME": "ann"}, 0), inp("c", 8, {"NAME": "bob"}, 0), inp("o", 1, {"CID": 7, "AMT": 5}, 1),
             inp("o", 1, {"CID": 8, "AMT": 5}, 2), inp("c", 7, {"NAME": "ann2"}, 3), inp("c", 8, {"NAME": "bob2"}, 4)],
            [outp(1, {"AMT": 5, "NAME": "ann"}, 1), outp(1, {"AMT": 5, "NAME": "bob"}, 2),
             outp(1, {"AMT": 5, "NAME": "bob2"}, 4)]),
        case("foreign-key join over two partitions: the right table is read whole", [src(O, 2), src(C, 2),
            "CREATE TABLE OUTPUT AS SELECT OID, AMT, NAME FROM O JOIN C ON O.CID = C.CID;"],
            [inp("c", k, {"NAME": f"n{k}"}, 0) for k in (7, 8, 9)] +
            [inp("o", k, {"CID": 7 + k % 3, "AMT": k}, k) for k in range(1, 7)],
            by_partition([outp(k, {"AMT": k, "NAME": f"n{7 + k % 3}"}, k) for k in range(1, 7)], 2), 2),
        case("late stream-stream records are dropped", [src(S), src(S2),
            "CREATE STREAM OUTPUT AS SELECT S.ID, A, B FROM S JOIN S2 WITHIN 1 SECOND GRACE PERIOD 0 SECONDS ON S.ID = S2.ID;"],
            [a(1, "a", 0), inp("s2", 2, {"B": "x"}, 10000), inp("s2", 1, {"B": "late"}, 500), a(2, "b", 10500)],
            [outp(2, {"A": "b", "B": "x"}, 10500)]),
        case("outer rows wait for the grace period", [src(S), src(S2),
            "CREATE STREAM OUTPUT AS SELECT S.ID, A, B FROM S LEFT JOIN S2 WITHIN 1 SECOND GRACE PERIOD 1 SECOND ON S.ID = S2.ID;"],
            [a(1, "a", 0), a(2, "b", 1500), inp("s2", 1, {"B": "x"}, 900), a(3, "c", 2001), a(3, "d", 3600)],
            [outp(1, {"A": "a", "B": "x"}, 900), outp(2, {"A": "b", "B": None}, 1500)]),
        case("a stream-stream join with WITHIN (before, after)", [src(S), src(S2),
            "CREATE STREAM OUTPUT AS SELECT S.ID, A, B FROM S JOIN S2 WITHIN (1 SECOND, 5 SECONDS) ON S.ID = S2.ID;"],
            [a(1, "a", 10000), inp("s2", 1, {"B": "before"}, 8500), inp("s2", 1, {"B": "after"}, 14000), inp("s2", 1, {"B": "x"}, 16000)],
            [outp(1, {"A": "a", "B": "after"}, 14000)]),
        case("group by over a stream-table join", ST + [
            "CREATE TABLE OUTPUT AS SELECT S.ID, COUNT(*) AS N, MAX(C) AS MC FROM S JOIN T ON S.ID = T.ID GROUP BY S.ID;"],
            [c(1, "c", 0), a(1, "a", 5), c(1, "d", 5), a(1, "b", 6)],
            [outp(1, {"N": 1, "MC": "c"}, 5), outp(1, {"N": 2, "MC": "d"}, 6)]),
        case("GROUP BY a table column over a two-partition stream-table join: the result is repartitioned", [src(S, 2), src(T, 2),
            "CREATE TABLE OUTPUT AS SELECT C, COUNT(*) AS N, COLLECT_LIST(A) AS AS_ FROM S JOIN T ON S.ID = T.ID GROUP BY C;"],
            [c(1, "x", 0), c(2, "d", 0), c(3, "x", 0), a(1, "a1", 5), a(2, "a2", 6), a(3, "a3", 7), a(4, "a4", 8), a(1, "a5", 9)],
            by_str_partition([outp("x", {"N": 1, "AS_": ["a1"]}, 5), outp("d", {"N": 1, "AS_": ["a2"]}, 6),
                              outp("x", {"N": 2, "AS_": ["a1", "a3"]}, 7), outp("x", {"N": 3, "AS_": ["a1", "a3", "a5"]}, 9)], 2), 2),
        case("GROUP BY over a repartitioned LEFT join with a WHERE: null groups are dropped", [src(S, 2), src(T, 2),
            "CREATE TABLE OUTPUT AS SELECT C, COUNT(*) AS N FROM S LEFT JOIN T ON S.ID = T.ID WHERE A <> 'skip' GROUP BY C;"],
            [c(1, "x", 0), c(2, "d", 0), a(1, "a", 5), a(4, "nobody", 6), a(2, "skip", 7), a(2, "b", 8), a(1, "c", 9)],
            by_str_partition([outp("x", {"N": 1}, 5), outp("d", {"N": 1}, 8), outp("x", {"N": 2}, 9)], 2), 2),
        case("GROUP BY a value column over a two-partition stream-stream join", [src(S, 2), src(S2, 2),
            "CREATE TABLE OUTPUT AS SELECT B, COUNT(*) AS N FROM S JOIN S2 WITHIN 10 SECONDS ON S.ID = S2.ID GROUP BY B;"],
            [a(1, "a", 0), inp("s2", 1, {"B": "x"}, 10), a(2, "b", 20), inp("s2", 2, {"B": "d"}, 30),
             inp("s2", 1, {"B": "d"}, 40), a(3, "c", 50)],
            by_str_partition([outp("x", {"N": 1}, 10), outp("d", {"N": 1}, 30), outp("d", {"N": 2}, 40)], 2), 2),
        case("a table-table join's deletes are tombstones downstream of the filter", [src(T), src(T2),
            "CREATE TABLE OUTPUT AS SELECT T.ID, C, D FROM T JOIN T2 ON T.ID = T2.ID WHERE D <> 'skip';"],
            [c(1, "c", 0), inp("t2", 1, {"D": "d"}, 1), inp("t2", 1, {"D": "skip"}, 2)],
            [outp(1, {"C": "c", "D": "d"}, 1), outp(1, None, 2)]),
        case("a DELIMITED stream joins a JSON table", [
            "CREATE STREAM SD (ID BIGINT KEY, A STRING, N INT) WITH (kafka_topic='sd', value_format='DELIMITED');", src(T),
            "CREATE STREAM OUTPUT AS SELECT SD.ID, A, N, C FROM SD JOIN T ON SD.ID = T.ID;"],
            [c(1, "c", 0), inp("sd", 1, "a,4", 5)], [outp(1, "a,4,c", 5)]),
    ]


def errors():
    E = "CREATE STREAM OUTPUT AS SELECT "
    return [
        err("table-stream joins are refused", ST + ["CREATE STREAM OUTPUT AS SELECT T.ID, A FROM T JOIN S ON T.ID = S.ID;"],
            "Invalid join order: table-stream joins are not supported; only stream-table joins. Got T [INNER] JOIN S."),
        err("full outer stream-table joins are refused", ST + [E + "S.ID, A FROM S FULL OUTER JOIN T ON S.ID = T.ID;"],
            "Invalid join type: full-outer join not supported for stream-table join. Got S [FULL] OUTER JOIN T."),
        err("right stream-table joins are refused", ST + [E + "S.ID, A FROM S RIGHT JOIN T ON S.ID = T.ID;"],
            "Invalid join type: right join not supported for stream-table join. Got S RIGHT [OUTER] JOIN T."),
        err("stream-stream joins need WITHIN", [src(S), src(S2), E + "S.ID, A FROM S JOIN S2 ON S.ID = S2.ID;"],
            "Stream-Stream joins must have a WITHIN clause specified. None was provided."),
        err("stream-table joins take no WITHIN", ST + [E + "S.ID, A FROM S JOIN T WITHIN 10 SECONDS ON S.ID = T.ID;"],
            "A window definition was provided for a Stream-Table join. These joins are not windowed."),
        err("table-table joins take no WITHIN", [src(T), src(T2), "CREATE TABLE OUTPUT AS SELECT T.ID, C FROM T JOIN T2 WITHIN 10 SECONDS ON T.ID = T2.ID;"],
            "A window definition was provided for a Table-Table join."),
        err("a join on a literal", ST + [E + "S.ID, A FROM S JOIN T ON S.ID = 0;"],
            "Invalid comparison expression '0' in join '(S.ID = 0)'. Each side of the join comparision must contain references from exactly one source."),
        err("a criteria with one source on both sides", ST + [E + "S.ID, A FROM S JOIN T ON S.ID = S.ID;"],
            "Each side of the join must reference exactly one source and not the same source. Left side references `S` and right references `S`"),
        err("a criteria that does not use the joined source", [src(S), src(T), src(T2),
            E + "S.ID, A FROM S JOIN T ON S.ID = T.ID JOIN T2 ON S.ID = T.ID;"],
            "A join criteria is expected to reference the source (`T2`) in the FROM clause, instead the right source references `T` and the left source references `S`"),
        err("a source twice in an n-way join", [src(S), src(T), src(T2), E + "S.ID, A FROM S JOIN T ON S.ID = T.ID JOIN T ON S.ID = T.ID;"],
            "N-way joins do not support multiple occurrences of the same source. Source: 'T'"),
        err("keys of different types", [src(S), "CREATE TABLE TS (ID STRING PRIMARY KEY, C STRING) WITH (kafka_topic='ts', value_format='JSON');",
            E + "S.ID, A FROM S JOIN TS ON S.ID = TS.ID;"],
            "Invalid join condition: types don't match. Got S.ID{BIGINT} = TS.ID{STRING}."),
        err("a stream-table join not on the table's key", ST + [E + "S.ID, A FROM S JOIN T ON S.A = T.C;"],
            "Invalid join condition: stream-table joins require to join on the table's primary key. Got (S.A = T.C)."),
        err("a table-table join not on the right table's key", [src(T), src(T2),
            "CREATE TABLE OUTPUT AS SELECT T.ID, C FROM T JOIN T2 ON T.C = T2.D;"],
            "Invalid join condition: table-table joins require to join on the primary key of the right input table. Got (T.C = T2.D)."),
        err("a full outer foreign-key join", [src(O), src(C), "CREATE TABLE OUTPUT AS SELECT OID, NAME FROM O FULL OUTER JOIN C ON O.CID = C.CID;"],
            "Invalid join type: full-outer join not supported for foreign-key table-table join. Got O [FULL] OUTER JOIN C."),
        err("sides with different partition counts", [src(S, 1), src(T, 2), E + "S.ID, A FROM S JOIN T ON S.ID = T.ID;"],
            "Can't join `S` with `T` since the number of partitions don't match. `S` partitions = 1; `T` partitions = 2. Please repartition either one so that the number of partitions match.",
            {"s": 1, "t": 2}),
        err("sides with different key formats over several partitions", [
            "CREATE STREAM SJ (ID BIGINT KEY, A STRING) WITH (kafka_topic='sj', key_format='JSON', value_format='JSON', partitions=2);",
            src(T, 2), E + "SJ.ID, A FROM SJ JOIN T ON SJ.ID = T.ID;"],
            "Can't join `SJ` with `T`: their key formats differ", {"sj": 2, "t": 2}),
        err("the join key must be projected", ST + [E + "A, C FROM S JOIN T ON S.ID = T.ID;"],
            "The query used to build `OUTPUT` must include the join expressions S.ID or T.ID in its projection (eg, SELECT S.ID...)."),
        err("a full outer join's key is ROWKEY", [src(S), src(S2), E + "S.ID, A FROM S FULL OUTER JOIN S2 WITHIN 1 SECOND ON S.ID = S2.ID;"],
            "The query used to build `OUTPUT` must include the join expression ROWKEY in its projection (eg, SELECT ROWKEY...)."),
        err("a join of an unknown source", [src(S), E + "S.ID, A FROM S JOIN NOPE ON S.ID = NOPE.ID;"], "NOPE does not exist"),
        err("a condition that is not an equality", ST + [E + "S.ID, A FROM S JOIN T ON S.ID > T.ID;"],
            "Unsupported join expression: (S.ID > T.ID). A join criteria must be equalities between the two sides, joined with AND."),
        err("an ambiguous column", ST + [E + "ID, A FROM S JOIN T ON S.ID = T.ID;"], "column 'ID' is ambiguous"),
        err("a windowed source", ["CREATE STREAM W (ID BIGINT KEY, A STRING) WITH (kafka_topic='w', value_format='JSON', WINDOW_TYPE='TUMBLING', WINDOW_SIZE='1 SECOND');",
            src(T), E + "W.ID, A FROM W JOIN T ON W.ID = T.ID;"], "W is windowed: joins of windowed sources are not supported"),
        err("an aggregation over a join of tables", [src(T), src(T2), "CREATE TABLE OUTPUT AS SELECT T.ID, COUNT(*) FROM T JOIN T2 ON T.ID = T2.ID GROUP BY T.ID;"],
            "aggregations over a join of tables are not supported yet"),
        err("a second join on another key of a stream result", [src(S3), src(T), src(T2),
            E + "S3.ID, A FROM S3 JOIN T ON S3.ID = T.ID JOIN T2 ON S3.K = T2.ID;"],
            "needs a repartition of that result, which weir does not do yet"),
        err("a table-table join makes a table", [src(T), src(T2), E + "T.ID, C FROM T JOIN T2 ON T.ID = T2.ID;"],
            "Invalid result type. Your SELECT query produces a TABLE. Please use CREATE TABLE AS SELECT statement instead."),
        err("a stream-table join makes a stream", ST + ["CREATE TABLE OUTPUT AS SELECT S.ID, A FROM S JOIN T ON S.ID = T.ID;"],
            "Invalid result type. Your SELECT query produces a STREAM. Please use CREATE STREAM AS SELECT statement instead."),
        err("a join of a source with itself", [src(S), E + "S.ID FROM S JOIN S WITHIN 1 SECOND ON S.ID = S.ID;"],
            "Can not join 'S' to itself"),
        err("a table-stream join in an n-way join", [src(S), src(T), src(T2),
            E + "T.ID FROM T JOIN T2 ON T.ID = T2.ID JOIN S ON T.ID = S.ID;"],
            "Invalid join order: table-stream joins are not supported; only stream-table joins. Got T [INNER] JOIN S."),
    ]


def files():
    return {"joins": by_hand(), "joins_errors": errors(), "joins_generated": generated()}
