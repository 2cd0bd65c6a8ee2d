"""conn_flood.py - hostile clients for the memory-bound tests (conn_limits.sh) and the memory
benchmark (bench/conn_memory.sh): many idle connections, and connections that send most of a
large request and hold it, while the server's VmRSS is read from /proc.

  conn_flood.py PID kafka|http PORT [--idle N [--idle-request] [--source ADDR] [--wait S]]
                [--partial M --size BYTES --send BYTES] [--normal CMD] [--complete] [--stall S]

The Kafka request is an ApiVersions v0 frame padded to --size bytes (the body decoder ignores
bytes after the fields it knows, so the server answers it like any ApiVersions); the HTTP one a
POST /ksql whose JSON body is padded to --size bytes. Senders are non-blocking and stop when
they have sent --send bytes or nothing moved for --stall seconds (the server stopped reading).
--normal runs a shell command while everything is held (it must exit 0); --complete then sends
the rest of every held request and checks that each is answered (Kafka: its correlation id;
HTTP: a 200). The idle connections (from --source, each after one small request with
--idle-request) are counted at the end: `idle_open N of M` says how many the server kept open.
Prints `key value` lines (RSS in KiB); exits 1 on a failed check.
"""
import argparse
import selectors
import socket
import struct
import subprocess
import sys
import time


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS for %d" % pid)


def kafka_request(corr, size):
    cid = b"flood"
    hdr = struct.pack(">hhih", 18, 0, corr, len(cid)) + cid
    return struct.pack(">i", size) + hdr + b"\0" * (size - len(hdr))


def http_request(size):
    head = b'{"ksql":"SHOW STREAMS;","pad":"'
    tail = b'"}'
    body = head + b"x" * (size - len(head) - len(tail)) + tail
    return (b"POST /ksql HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % size) + body


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    return s


def pump(socks, datas, offs, limits, stall):
    """Sends datas[i][offs[i]:limits[i]] on every socket until done or stalled."""
    sel = selectors.DefaultSelector()
    for i, s in enumerate(socks):
        s.setblocking(False)
        if offs[i] < limits[i]:
            sel.register(s, selectors.EVENT_WRITE, i)
    last = time.monotonic()
    while sel.get_map():
        events = sel.select(timeout=0.1)
        for key, _ in events:
            i = key.data
            try:
                n = socks[i].send(memoryview(datas[i])[offs[i]:min(limits[i], offs[i] + (1 << 20))])
            except BlockingIOError:
                continue
            if n > 0:
                offs[i] += n
                last = time.monotonic()
            if offs[i] >= limits[i]:
                sel.unregister(socks[i])
        if time.monotonic() - last > stall:
            break
    sel.close()


def read_answer(s, kind, corr, timeout=60):
    s.setblocking(True)
    s.settimeout(timeout)
    buf = b""
    if kind == "kafka":
        while len(buf) < 8:
            chunk = s.recv(65536)
            if not chunk:
                return "closed after %d bytes" % len(buf)
            buf += chunk
        got = struct.unpack(">i", buf[4:8])[0]
        return None if got == corr else "correlation id %d, want %d" % (got, corr)
    while b"\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            return "closed after %r" % buf
        buf += chunk
    line = buf.split(b"\r\n", 1)[0]
    return None if line.startswith(b"HTTP/1.1 200") else "status line %r" % line


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pid", type=int)
    ap.add_argument("kind", choices=["kafka", "http"])
    ap.add_argument("port", type=int)
    ap.add_argument("--idle", type=int, default=0)
    ap.add_argument("--partial", type=int, default=0)
    ap.add_argument("--size", type=int, default=0)
    ap.add_argument("--send", type=int, default=0)
    ap.add_argument("--normal")
    ap.add_argument("--complete", action="store_true")
    ap.add_argument("--stall", type=float, default=1.0)
    ap.add_argument("--source", default="", help="local address of the idle connections")
    ap.add_argument("--wait", type=float, default=0.5,
                    help="seconds between opening the idle connections and counting them")
    ap.add_argument("--idle-request", action="store_true",
                    help="each idle connection first sends one small request and reads its answer")
    a = ap.parse_args()
    ok = True
    print("rss_start_kb", rss_kb(a.pid))
    idle = []
    refused = 0
    for i in range(a.idle):
        s = socket.create_connection(("127.0.0.1", a.port), timeout=10,
                                     source_address=(a.source, 0) if a.source else None)
        idle.append(s)
        if a.idle_request:
            small = kafka_request(i, 64) if a.kind == "kafka" else (
                b"GET /info HTTP/1.1\r\nHost: t\r\n\r\n")
            s.sendall(small)
            if read_answer(s, a.kind, i, timeout=10) is not None:
                refused += 1
    if a.idle_request:
        print("idle_refused", refused)
    if a.idle:
        time.sleep(a.wait)
        r = rss_kb(a.pid)
        print("rss_idle_kb", r)
    socks, datas = [], []
    for i in range(a.partial):
        socks.append(connect(a.port))
        datas.append(kafka_request(1000 + i, a.size) if a.kind == "kafka" else http_request(a.size))
    offs = [0] * len(socks)
    pump(socks, datas, offs, [min(len(d), a.send) for d in datas], a.stall)
    if a.partial:
        print("sent_total_mb", sum(offs) >> 20)
        print("rss_held_kb", rss_kb(a.pid))
    if a.normal:
        rc = subprocess.call(a.normal, shell=True)
        print("normal_rc", rc)
        ok = ok and rc == 0
    if a.complete:
        # the rest of every held request, then one answer each
        pump(socks, datas, offs, [len(d) for d in datas], 60.0)
        sent = sum(1 for i, d in enumerate(datas) if offs[i] == len(d))
        print("completed_sends", sent, "of", len(datas))
        ok = ok and sent == len(datas)
        answered = 0
        for i, s in enumerate(socks):
            why = read_answer(s, a.kind, 1000 + i)
            if why is None:
                answered += 1
            else:
                print("request", i, "not answered:", why)
        print("answered", answered, "of", len(socks))
        ok = ok and answered == len(socks)
        print("rss_end_kb", rss_kb(a.pid))
    alive = 0
    for s in idle:
        s.setblocking(False)
        try:
            while s.recv(65536):
                pass  # an answer (a refusal says 503) then the end: closed
        except BlockingIOError:
            alive += 1  # nothing more to read and not closed
        except OSError:
            pass
    if a.idle:
        print("idle_open", alive, "of", len(idle))
    for s in idle + socks:
        s.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
