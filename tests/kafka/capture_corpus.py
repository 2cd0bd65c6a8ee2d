#!/usr/bin/env python3
"""capture_corpus.py LISTEN_PORT BROKER_PORT OUTDIR - a recording TCP proxy used once to build the
fuzz seed corpus: forwards connections to the broker and writes each client request frame (size
prefix stripped) to OUTDIR/<api>-v<ver>-<n>.bin, keeping at most 3 per (api, version). Point the
broker's advertised port at LISTEN_PORT so clients stay on the proxy. Not run by the test suite."""
import os
import socket
import struct
import sys
import threading

listen_port, broker_port, outdir = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
os.makedirs(outdir, exist_ok=True)
counts = {}
lock = threading.Lock()


def pump(src, dst, record):
    buf = b''
    try:
        while True:
            d = src.recv(65536)
            if not d:
                break
            dst.sendall(d)
            if not record:
                continue
            buf += d
            while len(buf) >= 4:
                n = struct.unpack('>i', buf[:4])[0]
                if len(buf) < 4 + n:
                    break
                frame, buf = buf[4:4 + n], buf[4 + n:]
                key, ver = struct.unpack('>hh', frame[:4])
                with lock:
                    c = counts.get((key, ver), 0)
                    if c < 3 and len(frame) < 64 * 1024:
                        counts[(key, ver)] = c + 1
                        with open('%s/%02d-v%d-%d.bin' % (outdir, key, ver, c), 'wb') as f:
                            f.write(frame)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('127.0.0.1', listen_port))
srv.listen(64)
while True:
    c, _ = srv.accept()
    b = socket.create_connection(('127.0.0.1', broker_port))
    threading.Thread(target=pump, args=(c, b, True), daemon=True).start()
    threading.Thread(target=pump, args=(b, c, False), daemon=True).start()
