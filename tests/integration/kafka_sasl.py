#!/usr/bin/env python3
"""kafka_sasl.py BOOTSTRAP [reauth] - confluent-kafka with SASL SCRAM-SHA-512 against a weir
server whose users are alice (SCRAM-SHA-256/512, 'alice-secret') and bob (SCRAM-SHA-512,
'bob-secret'); then raw SASL frames that are wrong in every way a client can get them wrong.
With 'reauth' (the server runs with connections.max.reauth.ms=1500): KIP-368 re-authentication
by hand, and clients without it (librdkafka 2.0) working across expiries. Exits 1 on a failure."""
import socket
import struct
import sys

from confluent_kafka import Consumer, Producer, TopicPartition

BOOT = sys.argv[1]
REAUTH = len(sys.argv) > 2 and sys.argv[2] == "reauth"
HOST, PORT = BOOT.split(":")[0], int(BOOT.split(":")[1])
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def conf(user, pw, mech="SCRAM-SHA-512"):
    return {"bootstrap.servers": BOOT, "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanisms": mech, "sasl.username": user, "sasl.password": pw}


# ---- raw frames ------------------------------------------------------------------------------
def conn():
    s = socket.create_connection((HOST, PORT), timeout=10)
    return s


def send(s, api, ver, body, corr=1):
    hdr = struct.pack(">hhih", api, ver, corr, 4) + b"test"
    frame = hdr + body
    s.sendall(struct.pack(">i", len(frame)) + frame)


def recv(s):
    """One response body (after the correlation id), or None when the connection closed."""
    def exact(n):
        b = b""
        while len(b) < n:
            try:
                x = s.recv(n - len(b))
            except (ConnectionResetError, socket.timeout):
                return None
            if not x:
                return None
            b += x
        return b
    n = exact(4)
    if n is None:
        return None
    body = exact(struct.unpack(">i", n)[0])
    return body[4:] if body is not None else None


def kstr(x):
    return struct.pack(">h", len(x)) + x


def closed(s):
    try:
        return s.recv(1) == b""
    except (ConnectionResetError, socket.timeout):
        return True


def handshake(s, mech):
    send(s, 17, 1, kstr(mech))
    r = recv(s)
    err = struct.unpack(">h", r[:2])[0]
    n = struct.unpack(">i", r[2:6])[0]
    mechs, at = [], 6
    for _ in range(n):
        ln = struct.unpack(">h", r[at:at + 2])[0]
        mechs.append(r[at + 2:at + 2 + ln].decode())
        at += 2 + ln
    return err, mechs


def authenticate(s, data, ver=0):
    send(s, 36, ver, struct.pack(">i", len(data)) + data)
    r = recv(s)
    if r is None:
        return None, None, None
    err = struct.unpack(">h", r[:2])[0]
    ml = struct.unpack(">h", r[2:4])[0]
    msg = r[4:4 + ml].decode() if ml >= 0 else None
    at = 4 + max(ml, 0)
    bl = struct.unpack(">i", r[at:at + 4])[0]
    return err, msg, r[at + 4:at + 4 + bl]




def normal():
    # ---- a real client -------------------------------------------------------------------------
    p = Producer(dict(conf("bob", "bob-secret"), **{"enable.idempotence": True}))
    for i in range(100):
        p.produce("t2", key=b"k%d" % i, value=b"v%d" % i)
    check(p.flush(30) == 0, "confluent-kafka produced 100 records as bob (SCRAM-SHA-512, idempotent)")
    c = Consumer(dict(conf("alice", "alice-secret", "SCRAM-SHA-256"),
                      **{"group.id": "g-sasl", "auto.offset.reset": "earliest"}))
    c.subscribe(["t2"])
    got = []
    for _ in range(300):
        m = c.poll(0.1)
        if m is not None and not m.error():
            got.append((m.key(), m.value()))
        if len(got) == 100:
            break
    c.close()
    check(got == [(b"k%d" % i, b"v%d" % i) for i in range(100)],
          "alice consumed the 100 records in a group (SCRAM-SHA-256): %d" % len(got))

    errors = []
    bad = Producer(dict(conf("bob", "wrong"), **{"error_cb": lambda e: errors.append(e)}))
    bad.produce("t2", value=b"never")
    for _ in range(30):
        bad.poll(0.1)
        if errors:
            break
    check(any("uthentication" in str(e) for e in errors), "a wrong password gives an authentication error")
    cons = Consumer({"bootstrap.servers": BOOT, "group.id": "g-read", "auto.offset.reset": "earliest"})
    cons.assign([TopicPartition("t2", 0, 0)])
    stored = []
    for _ in range(20):
        m = cons.poll(0.1)
        if m is not None and not m.error():
            stored.append(m.value())
    cons.close()
    check(stored == [], "a client without SASL read nothing")


def hostile():
    s = conn()
    send(s, 3, 1, struct.pack(">i", 0))  # Metadata v1 before any SASL
    check(recv(s) is None, "a Metadata request before authentication closes the connection")

    s = conn()
    err, mechs = handshake(s, b"GSSAPI")
    check(err == 33 and mechs == ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"],
          "an unknown mechanism gets UNSUPPORTED_SASL_MECHANISM and the list: %d %s" % (err, mechs))
    check(closed(s), "... and the connection closes")

    s = conn()
    err, _ = handshake(s, b"SCRAM-SHA-256")
    check(err == 0, "SCRAM-SHA-256 handshake")
    err, _ = handshake(s, b"SCRAM-SHA-256")
    check(err == 34, "a second handshake gets ILLEGAL_SASL_STATE: %d" % err)

    s = conn()
    err, msg, _ = authenticate(s, b"n,,n=alice,r=abc")
    check(err == 34 and closed(s), "SaslAuthenticate without a handshake: ILLEGAL_SASL_STATE, closed")

    for what, data in [("garbage", b"\xff\x00garbage"), ("a huge message", b"n,,n=alice,r=" + b"a" * 70000),
                       ("channel binding", b"p=tls-unique,,n=alice,r=abc"), ("empty", b"")]:
        s = conn()
        handshake(s, b"SCRAM-SHA-512")
        err, msg, _ = authenticate(s, data)
        check(err == 58 and msg is not None and "SCRAM-SHA-512" in msg and closed(s),
              "SCRAM %s: SASL_AUTHENTICATION_FAILED (%s, %s), closed" % (what, err, msg))

    # a whole SCRAM exchange by hand, with a forged proof at the end
    s = conn()
    handshake(s, b"SCRAM-SHA-256")
    err, msg, first = authenticate(s, b"n,,n=alice,r=fyko+d2lbbFgONRv9qkxdawL", ver=1)
    check(err == 0 and first.startswith(b"r=fyko+d2lbbFgONRv9qkxdawL") and b",s=" in first and b",i=8192" in first,
          "server-first-message: %r" % first[:60])
    nonce = first.split(b",")[0][2:]
    err, msg, _ = authenticate(s, b"c=biws,r=" + nonce + b",p=" + b"A" * 43 + b"=", ver=1)
    check(err == 58 and closed(s), "a forged proof: SASL_AUTHENTICATION_FAILED, closed")

    # PLAIN, by hand: a wrong authzid, then a malformed message
    for what, data in [("another authzid", b"bob\x00alice\x00alice-secret"), ("no NULs", b"alice")]:
        s = conn()
        handshake(s, b"PLAIN")
        err, msg, _ = authenticate(s, data)
        check(err == 58 and closed(s), "PLAIN with %s: SASL_AUTHENTICATION_FAILED, closed" % what)
    s = conn()
    handshake(s, b"PLAIN")
    err, msg, _ = authenticate(s, b"\x00alice\x00alice-secret")
    send(s, 18, 0, b"", corr=7)
    check(err == 0 and recv(s) is not None, "PLAIN by hand authenticates, and the connection serves on")
    send(s, 3, 1, struct.pack(">i", 0), corr=8)
    check(recv(s) is not None, "... Metadata after authentication is answered")


def plain_login(s, user=b"alice", pw=b"alice-secret"):
    """PLAIN over SaslAuthenticate v1; returns (error, session_lifetime_ms)."""
    send(s, 36, 1, struct.pack(">i", 2 + len(user) + len(pw)) + b"\x00" + user + b"\x00" + pw)
    r = recv(s)
    err = struct.unpack(">h", r[:2])[0]
    ml = struct.unpack(">h", r[2:4])[0]
    at = 4 + max(ml, 0)
    bl = struct.unpack(">i", r[at:at + 4])[0]
    return err, struct.unpack(">q", r[at + 4 + bl:at + 12 + bl])[0]


def metadata_answered(s, corr):
    send(s, 3, 1, struct.pack(">i", 0), corr=corr)
    return recv(s) is not None


def reauth():
    import time
    s = conn()
    handshake(s, b"PLAIN")
    err, life = plain_login(s)
    check(err == 0 and life == 1500, "SaslAuthenticate v1 gives the session's lifetime: %d %d" % (err, life))
    check(metadata_answered(s, 2), "served within the lifetime")
    # re-authenticate twice, each before the lifetime ends: served past the first lifetime
    for k in range(2):
        time.sleep(1.0)
        err, _ = handshake(s, b"PLAIN")
        check(err == 0, "re-authentication handshake %d" % k)
        err, life = plain_login(s)
        check(err == 0 and life == 1500, "re-authenticated %d" % k)
    check(metadata_answered(s, 3), "served 2 s after the first login, thanks to re-authentication")
    time.sleep(1.7)
    send(s, 3, 1, struct.pack(">i", 0), corr=4)
    check(recv(s) is None, "past the lifetime, a request closes the connection")
    # a re-authentication may not change the user, nor the mechanism
    s = conn()
    handshake(s, b"PLAIN")
    plain_login(s)
    handshake(s, b"PLAIN")
    err, _ = plain_login(s, b"bob", b"bob-secret")
    check(err == 58 and closed(s), "re-authentication as another user: refused, closed")
    s = conn()
    handshake(s, b"PLAIN")
    plain_login(s)
    err, _ = handshake(s, b"SCRAM-SHA-512")
    check(err == 34 and closed(s), "re-authentication with another mechanism: refused, closed")
    # librdkafka 2.0 does not re-authenticate: its connections close at expiry, it reconnects
    p = Producer(conf("bob", "bob-secret"))
    errors = []
    t0 = time.time()
    n = 0
    while time.time() - t0 < 4.0:
        p.produce("t-reauth", value=b"%d" % n, on_delivery=lambda e, m: e and errors.append(e))
        n += 1
        p.poll(0.1)
    check(p.flush(30) == 0 and not errors, "a producer without KIP-368 kept going across 2 expiries: %d sent, %s" % (n, errors[:1]))


if REAUTH:
    reauth()
else:
    normal()
    hostile()
sys.exit(1 if failures else 0)
