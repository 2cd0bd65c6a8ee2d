#!/usr/bin/python3
"""http_client.py - small raw-socket HTTP/1.1 clients for the HTTP API test (http_api.sh).

  http_client.py inserts PORT TARGET
      Streams an /inserts-stream body in chunks (Transfer-Encoding: chunked) and proves that the
      server acknowledges each row while the body is still arriving: row N+1 is sent only after
      the ack of row N has been read. Prints the ack lines.
  http_client.py pipeline PORT
      Two GET requests written in one packet on one connection (HTTP/1.1 pipelining): both
      answers must come back, in order.
  http_client.py garbage PORT
      A malformed request line: the answer must be a 400 with a JSON body that says why.
  http_client.py bigheader PORT
      A request whose headers exceed http.max.header.bytes: 431.
"""
import json
import socket
import sys


def connect(port):
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
    return s, s.makefile("rb")


def read_head(f):
    status = f.readline().decode()
    headers = {}
    while True:
        line = f.readline().decode()
        if line in ("\r\n", ""):
            break
        k, v = line.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    return status, headers


def read_chunk(f):
    size = int(f.readline().decode().strip(), 16)
    data = f.read(size)
    f.readline()
    return data


def chunk(s, data):
    s.sendall(b"%x\r\n%s\r\n" % (len(data), data))


def inserts(port, target):
    s, f = connect(port)
    s.sendall(b"POST /inserts-stream HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Transfer-Encoding: chunked\r\n\r\n")
    chunk(s, json.dumps({"target": target}).encode() + b"\n")
    rows = [{"ID": 10, "NAME": "streamed-a"}, {"ID": 11, "NAME": "streamed-b"},
            {"ID": "not a number"}, {"ID": 12, "NAME": "streamed-c"}]
    status = None
    buf = b""
    for i, row in enumerate(rows):
        chunk(s, json.dumps(row).encode() + b"\n")
        if status is None:
            status, headers = read_head(f)
            assert status.startswith("HTTP/1.1 200"), status
            assert headers.get("transfer-encoding") == "chunked", headers
        # the ack of this row arrives before the next row is sent
        while b"\n" not in buf:
            buf += read_chunk(f)
        line, buf = buf.split(b"\n", 1)
        ack = json.loads(line)
        assert ack["seq"] == i, ack
        print(line.decode())
    s.sendall(b"0\r\n\r\n")
    assert read_chunk(f) == b"", "the response ends after the body"
    s.close()


def pipeline(port):
    s, f = connect(port)
    s.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\nGET /info HTTP/1.1\r\nHost: x\r\n\r\n")
    for want in (b"UP", b"KsqlServerInfo"):
        status, headers = read_head(f)
        body = f.read(int(headers["content-length"]))
        assert status.startswith("HTTP/1.1 200") and want in body, (status, body)
        print(status.strip(), body.decode())
    s.close()


def raw(port, data):
    s, f = connect(port)
    s.sendall(data)
    status, headers = read_head(f)
    body = f.read(int(headers.get("content-length", "0")))
    print(status.strip(), body.decode())
    s.close()


if __name__ == "__main__":
    what, port = sys.argv[1], sys.argv[2]
    if what == "inserts":
        inserts(port, sys.argv[3])
    elif what == "pipeline":
        pipeline(port)
    elif what == "garbage":
        raw(port, b"THIS IS NOT HTTP\r\n\r\n")
    elif what == "bigheader":
        raw(port, b"GET /info HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 10000 + b"\r\n\r\n")
