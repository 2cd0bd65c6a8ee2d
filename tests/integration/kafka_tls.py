#!/usr/bin/env python3
"""kafka_tls.py BOOTSTRAP DIR MODE - MODE ssl or sasl_ssl: confluent-kafka produces and consumes
over the listener with DIR's test CA; MODE hostile: raw bytes a TLS listener must survive
(plaintext Kafka, a handshake cut halfway, garbage), each on its own connection."""
import socket
import ssl
import struct
import sys

BOOT, DIR, MODE = sys.argv[1], sys.argv[2], sys.argv[3]
HOST, PORT = BOOT.split(":")[0], int(BOOT.split(":")[1])
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


if MODE in ("ssl", "sasl_ssl"):
    from confluent_kafka import Consumer, Producer
    conf = {"bootstrap.servers": BOOT, "security.protocol": MODE.upper(),
            "ssl.ca.location": DIR + "/ca.pem"}
    if MODE == "sasl_ssl":
        conf.update({"sasl.mechanisms": "SCRAM-SHA-512", "sasl.username": "alice",
                     "sasl.password": "alice-secret"})
    topic = "py-" + MODE
    p = Producer(dict(conf, **{"enable.idempotence": True}))
    for i in range(200):
        p.produce(topic, key=b"%d" % i, value=b"x" * (i * 50))  # up to 10 KB: many TLS records
    check(p.flush(30) == 0, "produced 200 records (up to 10 KB) over " + MODE)
    c = Consumer(dict(conf, **{"group.id": "g-" + MODE, "auto.offset.reset": "earliest"}))
    c.subscribe([topic])
    got = []
    for _ in range(300):
        m = c.poll(0.1)
        if m is not None and not m.error():
            got.append((m.key(), m.value()))
        if len(got) == 200:
            break
    c.close()
    check(got == [(b"%d" % i, b"x" * (i * 50)) for i in range(200)],
          "consumed the 200 records in a group over %s: %d" % (MODE, len(got)))
else:
    def closed(s):
        try:
            s.settimeout(10)
            while True:
                b = s.recv(4096)
                if not b:
                    return True
        except (ConnectionResetError, socket.timeout, OSError):
            return True

    # a plaintext Kafka request (ApiVersions v0) to the TLS port
    s = socket.create_connection((HOST, PORT), timeout=10)
    hdr = struct.pack(">hhih", 18, 0, 1, 4) + b"test"
    s.sendall(struct.pack(">i", len(hdr)) + hdr)
    check(closed(s), "plaintext Kafka on the TLS port: closed")
    # garbage
    s = socket.create_connection((HOST, PORT), timeout=10)
    s.sendall(b"\x16\x03\x01\xff\xff" + b"\x00" * 3000)
    check(closed(s), "garbage in a TLS record header: closed")
    # a handshake cut halfway: the ClientHello, then nothing; the client goes away
    ctx = ssl.create_default_context(cafile=DIR + "/ca.pem")
    raw = socket.create_connection((HOST, PORT), timeout=10)
    inb, outb = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inb, outb, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = outb.read()
    raw.sendall(hello[: len(hello) // 2])
    raw.close()
    # a full handshake without the client certificate the listener requires
    try:
        t = ctx.wrap_socket(socket.create_connection((HOST, PORT), timeout=10),
                            server_hostname="localhost")
        t.sendall(struct.pack(">i", len(hdr)) + hdr)
        refused = t.recv(4) == b""
    except (ssl.SSLError, ConnectionResetError, OSError):
        refused = True
    check(refused, "a TLS client without a certificate is refused under ssl.client.auth=required")
    # and with the certificate, the same request is answered
    ctx.load_cert_chain(DIR + "/client.pem", DIR + "/client.key")
    t = ctx.wrap_socket(socket.create_connection((HOST, PORT), timeout=10),
                        server_hostname="localhost")
    t.sendall(struct.pack(">i", len(hdr)) + hdr)
    n = t.recv(4)
    check(len(n) == 4 and struct.unpack(">i", n)[0] > 6, "ApiVersions over mutual TLS is answered")
    t.close()

sys.exit(1 if failures else 0)
