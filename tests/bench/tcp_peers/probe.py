#!/usr/bin/env python3
"""Traffic for tests/bench/tcp_peers/run.sh, run inside a namespace.

  probe.py bulk HOST PORT SECONDS   send as fast as possible to a discard service, then
                                    close and wait for the server's close; prints
                                    "BYTES SECONDS" (until the server's FIN: all acked)
  probe.py rr HOST PORT COUNT       1-byte request/response on one connection (echo);
                                    prints "P50_US P99_US"
  probe.py serve ADDR               the kernel peer: discard on 9 and echo on 7
  probe.py sink ADDR PORT SECONDS   the send direction's kernel sink: accepts one connection,
                                    counts what arrives for SECONDS from its first byte, then
                                    shuts its side down (the source stops) and drains to the
                                    end; prints "BYTES SECONDS"
  probe.py source HOST PORT         the kernel's own source: sends until the server shuts down
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


def sink(addr, port, seconds):
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((addr, port))
    server.listen(1)
    server.settimeout(30)
    conn, _ = server.accept()
    conn.settimeout(30)
    buffer = bytearray(1 << 20)
    total = conn.recv_into(buffer)
    start = time.monotonic()
    end = start + seconds
    while (now := time.monotonic()) < end:
        n = conn.recv_into(buffer)
        if n == 0:
            break
        total += n
    elapsed = now - start
    conn.shutdown(socket.SHUT_WR)
    while conn.recv_into(buffer):
        pass
    print(f"{total} {elapsed:.6f}")


def source(host, port):
    for _ in range(100):
        try:
            sock = socket.create_connection((host, port), timeout=30)
            break
        except ConnectionRefusedError:
            time.sleep(0.1)
    # Blocking sends as fast as the socket takes them; a thread watches for the server's
    # shutdown (the sink keeps draining after it, so the last send returns).
    stop = threading.Event()

    def watch():
        while sock.recv(65536):
            pass
        stop.set()

    threading.Thread(target=watch, daemon=True).start()
    chunk = b"x" * (1 << 20)  # large sends: the kernel source must not be the limit
    while not stop.is_set():
        sock.send(chunk)
    sock.shutdown(socket.SHUT_WR)
    sock.close()


if __name__ == "__main__":
    verb = sys.argv[1]
    if verb == "bulk":
        bulk(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    elif verb == "rr":
        rr(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif verb == "serve":
        serve(sys.argv[2])
    elif verb == "sink":
        sink(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    elif verb == "source":
        source(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(__doc__)
