#!/usr/bin/env python3
"""kafka_corrupt.py BOOTSTRAP - compressed batches whose payload is garbage, sent as a raw
Produce request (v3) the way a buggy or hostile client would, are refused with CORRUPT_MESSAGE
(error code 2) and stored nowhere, while a valid gzip batch in the same request (another
partition) is stored; then a consumer (librdkafka) reads the topic and gets exactly the valid
records. Covers gzip (the codec Python's standard library writes) with a valid stream of
garbage records, a payload that is not a gzip stream at all, and a gzip bomb."""
import gzip
import socket
import struct
import sys

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

BOOT = sys.argv[1]
host, port = BOOT.rsplit(":", 1)
TOPIC = "corrupt"


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


def varint(n):
    n = (n << 1) ^ (n >> 63)  # zigzag
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def records(values):
    out = b""
    for i, v in enumerate(values):
        body = b"\x00" + varint(0) + varint(i) + varint(-1) + varint(len(v)) + v + varint(0)
        out += varint(len(body)) + body
    return out


def batch(count, payload, codec):
    """A v2 batch of count records whose records section is payload (already compressed)."""
    after_crc = struct.pack(">hiqqqhi", codec, count - 1, 1000, 1000, -1, -1, -1)
    after_crc += struct.pack(">i", count) + payload
    crc = crc32c(after_crc)
    body = struct.pack(">ib", 0, 2) + struct.pack(">I", crc) + after_crc
    return struct.pack(">qi", 0, len(body)) + body


def string(s):
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def produce(parts):
    """One Produce v3 request for {partition: batch bytes}; {partition: error code}."""
    body = struct.pack(">hhi", -1, -1, 10000)  # transactional id null, acks all, timeout
    body += struct.pack(">i", 1) + string(TOPIC) + struct.pack(">i", len(parts))
    for p, b in parts.items():
        body += struct.pack(">ii", p, len(b)) + b
    req = struct.pack(">hhi", 0, 3, 7) + string("corrupt-test") + body
    s = socket.create_connection((host, int(port)), 10)
    s.sendall(struct.pack(">i", len(req)) + req)

    def take(n):
        out = b""
        while len(out) < n:
            chunk = s.recv(n - len(out))
            if not chunk:
                raise RuntimeError("the broker closed the connection")
            out += chunk
        return out

    n = struct.unpack(">i", take(4))[0]
    resp = take(n)
    s.close()
    at = 4  # correlation id
    (ntopics,) = struct.unpack_from(">i", resp, at)
    at += 4
    errors = {}
    for _ in range(ntopics):
        (tl,) = struct.unpack_from(">h", resp, at)
        at += 2 + tl
        (np,) = struct.unpack_from(">i", resp, at)
        at += 4
        for _ in range(np):
            p, err, _base, _ts = struct.unpack_from(">ihqq", resp, at)
            at += 22
            errors[p] = err
    return errors


admin = AdminClient({"bootstrap.servers": BOOT})
for f in admin.create_topics([NewTopic(TOPIC, 2, 1)]).values():
    f.result(30)

good = [b"good-%d" % i for i in range(5)]
cases = {
    "garbage records in a valid gzip stream": batch(3, gzip.compress(b"\x01\x02garbage" * 20), 1),
    "a payload that is not gzip": batch(3, b"\x1f\x8b" + b"\xff" * 60, 1),
    "a gzip bomb (100 MiB of zeros)": batch(3, gzip.compress(records([b"x"] * 3) +
                                                          bytes(100 << 20), 1), 1),
}
failures = []
for name, bad in cases.items():
    errs = produce({0: bad, 1: batch(len(good), gzip.compress(records(good)), 1)})
    if errs.get(0) != 2:
        failures.append(f"{name}: partition 0 answered error {errs.get(0)}, not 2 "
                        f"(CORRUPT_MESSAGE)")
    if errs.get(1) != 0:
        failures.append(f"{name}: the valid batch of partition 1 answered error {errs.get(1)}")

c = Consumer({"bootstrap.servers": BOOT, "group.id": "corrupt-read",
              "auto.offset.reset": "earliest", "enable.partition.eof": True})
c.assign([TopicPartition(TOPIC, 0, 0), TopicPartition(TOPIC, 1, 0)])
got, eof = {0: [], 1: []}, set()
while len(eof) < 2:
    m = c.poll(10)
    if m is None:
        failures.append("the consumer got nothing for 10 s")
        break
    if m.error():
        if m.error().code() == -191:  # _PARTITION_EOF
            eof.add(m.partition())
            continue
        failures.append(f"the consumer failed: {m.error()}")
        break
    got[m.partition()].append(m.value())
c.close()
if got[0]:
    failures.append(f"partition 0 holds {len(got[0])} records of the refused batches")
if got[1] != good * len(cases):
    failures.append(f"partition 1 holds {len(got[1])} records, not {len(good) * len(cases)}")
for f in failures:
    print("FAIL:", f)
if failures:
    sys.exit(1)
print(f"ok   {len(cases)} corrupt gzip batches refused with CORRUPT_MESSAGE and stored nowhere; "
      f"the valid batches beside them stored and read back")
