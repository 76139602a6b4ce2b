#!/usr/bin/env python3
"""Traffic for tests/bench/tcp_peers/run.sh, run inside a namespace.

  probe.py bulk HOST PORT SECONDS   send as fast as possible to a discard service, then
                                    close and wait for the server's close; prints
                                    "BYTES SECONDS" (until the server's FIN: all acked)
  probe.py rr HOST PORT COUNT       1-byte request/response on one connection (echo);
                                    prints "P50_US P99_US"
  probe.py serve ADDR               the kernel peer: discard on 9 and echo on 7
"""
import socket
import sys
import threading
import time


def bulk(host, port, seconds):
    sock = socket.create_connection((host, port), timeout=30)
    chunk = b"x" * 65536
    total = 0
    start = time.monotonic()
    end = start + seconds
    while time.monotonic() < end:
        total += sock.send(chunk)
    sock.shutdown(socket.SHUT_WR)
    while sock.recv(65536):
        pass
    print(f"{total} {time.monotonic() - start:.6f}")


def rr(host, port, count):
    sock = socket.create_connection((host, port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    samples = []
    for i in range(count + 100):
        begin = time.perf_counter_ns()
        sock.sendall(b"x")
        if sock.recv(1) != b"x":
            sys.exit("rr: wrong or no echo")
        if i >= 100:  # the first hundred warm up caches and the connection
            samples.append((time.perf_counter_ns() - begin) / 1000)
    samples.sort()
    print(f"{samples[len(samples) // 2]:.1f} {samples[int(len(samples) * 0.99)]:.1f}")


def serve(addr):
    def discard(conn):
        with conn:
            while conn.recv(1 << 16):
                pass

    def echo(conn):
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with conn:
            while data := conn.recv(1 << 16):
                conn.sendall(data)

    def listen(port, handler):
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((addr, port))
        server.listen(16)
        while True:
            conn, _ = server.accept()
            threading.Thread(target=handler, args=(conn,), daemon=True).start()

    threading.Thread(target=listen, args=(9, discard), daemon=True).start()
    listen(7, echo)


if __name__ == "__main__":
    verb = sys.argv[1]
    if verb == "bulk":
        bulk(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    elif verb == "rr":
        rr(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif verb == "serve":
        serve(sys.argv[2])
    else:
        sys.exit(__doc__)
