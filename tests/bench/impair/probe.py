#!/usr/bin/env python3
"""Traffic helpers for tests/bench/impair/run.sh, run inside a lab's namespaces.

  probe.py udp-recv  --port P --ready FILE --out FILE [--expect N] [--idle S] [--deadline S]
  probe.py udp-send  --dst IP --port P --count N --interval-us U [--size B]
  probe.py udp-blast --dst IP --port P --seconds S [--size B]
  probe.py tcp-sink  --port P --ready FILE --out FILE [--deadline S]
  probe.py tcp-source --dst IP --port P --seconds S [--sndbuf BYTES]
  probe.py icmp-ping --dst IP [--count N] [--interval S] [--wait S]
  probe.py binom --n N --p FRACTION [--conf 0.99]   central interval of Binomial(N, p): "LO HI"
  probe.py get FILE KEY...                         fields of a JSON object, space-separated
  probe.py feature NAME < caps.json                "yes" if `nslab -o json caps` has it

Receivers bind first and touch --ready, so the caller can start the sender after the file
exists; they write one JSON object to --out and exit. Senders print one JSON object to
stdout. Every UDP datagram starts with a 64-bit sequence number (big-endian), so the
receiver knows exactly which probes were lost and can measure loss bursts.
"""
import argparse
import json
import math
import os
import socket
import struct
import sys
import time

SEQ = struct.Struct("!Q")
# Linux's SO_TIMESTAMPNS (= SCM_TIMESTAMPNS, a struct timespec of two longs); Python's socket
# module does not name it.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f)
    os.replace(tmp, path)


def touch(path):
    with open(path, "w", encoding="utf-8"):
        pass


def loss_runs(received, expect):
    """Lengths of the runs of consecutive lost sequence numbers in [0, expect)."""
    runs = []
    run = 0
    for seq in range(expect):
        if received[seq]:
            if run:
                runs.append(run)
            run = 0
        else:
            run += 1
    if run:
        runs.append(run)
    return runs


def udp_socket(port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        # As root, past net.core.rmem_max: a burst must not overflow the socket and count as
        # link loss.
        sock.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    sock.bind(("0.0.0.0", port))
    return sock


def udp_recv(args):
    """With --expect: which of the probes 0..N-1 arrived (loss, bursts). Without: a lean
    counting loop for packets/s. Ends --idle seconds after the last datagram, or when all
    --expect probes are in, or at --deadline."""
    sock = udp_socket(args.port)
    touch(args.ready)
    buf = bytearray(65536)
    start = time.monotonic()
    sock.settimeout(args.deadline)
    try:
        n = sock.recv_into(buf)
    except socket.timeout:
        write_json(args.out, {"received": 0, "duplicates": 0, "bytes": 0, "seconds": 0.0,
                              "expect": args.expect, "unique": 0, "lost": args.expect,
                              "bursts": 1 if args.expect else 0, "max_burst": args.expect})
        return
    t_first = t_last = time.monotonic()
    count, nbytes, dups = 1, n, 0
    sock.settimeout(args.idle)
    if not args.expect:
        recv_into = sock.recv_into
        try:
            while True:
                nbytes += recv_into(buf)
                count += 1
        except socket.timeout:
            t_last = time.monotonic() - args.idle
        write_json(args.out, {"received": count, "bytes": nbytes,
                              "seconds": max(t_last - t_first, 1e-9)})
        return
    received = bytearray(args.expect)
    while True:
        if n >= SEQ.size:
            seq = SEQ.unpack_from(buf)[0]
            if seq < args.expect:
                if received[seq]:
                    dups += 1
                received[seq] = 1
        if count - dups >= args.expect or t_last - start > args.deadline:
            break
        try:
            n = sock.recv_into(buf)
        except socket.timeout:
            break
        t_last = time.monotonic()
        count += 1
        nbytes += n
    runs = loss_runs(received, args.expect)
    write_json(args.out, {"received": count, "duplicates": dups, "bytes": nbytes,
                          "seconds": t_last - t_first, "expect": args.expect,
                          "unique": sum(received), "lost": sum(runs), "bursts": len(runs),
                          "max_burst": max(runs) if runs else 0})


def udp_send(args):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    payload = bytearray(max(args.size, SEQ.size))
    interval = args.interval_us / 1e6
    start = time.perf_counter()
    for seq in range(args.count):
        # Pace against the schedule, not the previous send, so that a late wake-up does not
        # slow the whole run down; sleep only when more than 1 ms ahead.
        due = start + seq * interval
        ahead = due - time.perf_counter()
        if ahead > 0.001:
            time.sleep(ahead - 0.0005)
        while time.perf_counter() < due:
            pass
        SEQ.pack_into(payload, 0, seq)
        sock.sendto(payload, (args.dst, args.port))
    elapsed = time.perf_counter() - start
    print(json.dumps({"sent": args.count, "seconds": elapsed}))


def udp_blast(args):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect((args.dst, args.port))
    payload = bytearray(max(args.size, SEQ.size))
    send = sock.send
    sent = errors = 0
    start = time.perf_counter()
    end = start + args.seconds
    while True:
        # Check the clock every 256 sends: the clock costs as much as a send.
        for _ in range(256):
            SEQ.pack_into(payload, 0, sent)
            try:
                send(payload)
                sent += 1
            except (BlockingIOError, ConnectionRefusedError, OSError):
                errors += 1
        if time.perf_counter() >= end:
            break
    elapsed = time.perf_counter() - start
    print(json.dumps({"sent": sent, "errors": errors, "seconds": elapsed}))


def tcp_sink(args):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", args.port))
    listener.listen(1)
    listener.settimeout(args.deadline)
    touch(args.ready)
    conn, _ = listener.accept()
    conn.settimeout(args.deadline)
    buf = bytearray(1 << 20)
    total = 0
    t_first = None
    samples = []  # (time, cumulative bytes), at most one every 10 ms
    last_sample = 0.0
    while True:
        n = conn.recv_into(buf)
        now = time.monotonic()
        if n == 0:
            break
        if t_first is None:
            t_first = now
        total += n
        if now - last_sample >= 0.01:
            samples.append((now, total))
            last_sample = now
    t_last = now
    samples.append((t_last, total))
    seconds = (t_last - t_first) if t_first is not None else 0.0
    # Steady state: the least-squares slope of bytes over time from `warmup` after the first
    # byte (slow start and a token bucket's initial burst stay out) to the last byte. A slope,
    # not (bytes / span) between two samples: on a busy machine one late wake-up of this
    # process would otherwise move an end point by a whole socket buffer.
    steady_bps = 0.0
    if t_first is not None:
        warm = min(args.warmup, seconds / 2)
        window = [(t, b) for t, b in samples if t - t_first >= warm]
        if len(window) >= 3:
            mt = sum(t for t, _ in window) / len(window)
            mb = sum(b for _, b in window) / len(window)
            var = sum((t - mt) ** 2 for t, _ in window)
            if var > 0:
                steady_bps = 8 * sum((t - mt) * (b - mb) for t, b in window) / var
    write_json(args.out, {"bytes": total, "seconds": seconds,
                          "bps": total * 8 / seconds if seconds > 0 else 0.0,
                          "steady_bps": steady_bps})


def tcp_source(args):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if args.sndbuf:
        # A small send buffer: on a slow link the data still queued when the clock runs out
        # drains in well under a second instead of several.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, args.sndbuf)
    sock.connect((args.dst, args.port))
    chunk = b"\0" * (256 << 10)
    sent = 0
    start = time.perf_counter()
    end = start + args.seconds
    while time.perf_counter() < end:
        sent += sock.send(chunk)
    sock.shutdown(socket.SHUT_WR)
    sock.recv(1)  # the sink closes after reading everything: wait for that
    sock.close()
    print(json.dumps({"sent": sent, "seconds": time.perf_counter() - start}))


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def icmp_ping(args):
    """ICMP echo as ping(8) does it, with microsecond RTTs: iputils prints 1 ms steps from
    100 ms up. The reply's time is the kernel's receive timestamp (SO_TIMESTAMPNS), the
    request's is taken just before sendto(), so the RTT is close to ping's. Prints JSON with
    every RTT in ms, in sequence order (None: no reply)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    ident = os.getpid() & 0xFFFF
    sent_ns = {}
    rtts = {}
    start = time.monotonic()
    next_send = start
    seq = 0
    deadline = None
    while True:
        now = time.monotonic()
        if seq < args.count and now >= next_send:
            body = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + b"nslab-bench" * 5
            packet = body[:2] + struct.pack("!H", checksum(body)) + body[4:]
            sent_ns[seq] = time.time_ns()
            sock.sendto(packet, (args.dst, 0))
            seq += 1
            next_send += args.interval
            if seq == args.count:
                deadline = time.monotonic() + args.wait
            continue
        if deadline is not None and (len(rtts) == args.count or now >= deadline):
            break
        wake = next_send if seq < args.count else deadline
        sock.settimeout(max(wake - now, 0.0001))
        try:
            data, ancdata, _, _ = sock.recvmsg(2048, 256)
        except socket.timeout:
            continue
        ihl = (data[0] & 0x0F) * 4
        icmp_type, _, _, rid, rseq = struct.unpack_from("!BBHHH", data, ihl)
        if icmp_type != 0 or rid != ident or rseq not in sent_ns or rseq in rtts:
            continue
        received_ns = time.time_ns()
        for level, kind, value in ancdata:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                sec, nsec = struct.unpack("qq", value[:16])
                received_ns = sec * 1_000_000_000 + nsec
        rtts[rseq] = (received_ns - sent_ns[rseq]) / 1e6
    got = sorted(rtts.values())
    # Lower median, as run.sh's: always a value that was measured.
    median = got[(len(got) - 1) // 2] if got else None
    print(json.dumps({"replies": len(got), "median_ms": median,
                      "rtt_ms": [rtts.get(i) for i in range(args.count)]}))


def binom(args):
    """Smallest LO and largest HI with P(X < LO) <= a/2 and P(X > HI) <= a/2, a = 1 - conf:
    exact, from the pmf by its recurrence (no normal approximation)."""
    n, p = args.n, args.p
    tail = (1 - args.conf) / 2
    if p <= 0 or p >= 1:
        k = 0 if p <= 0 else n
        print(k, k)
        return
    pmf = [0.0] * (n + 1)
    mode = int((n + 1) * p)
    log_mode = (math.lgamma(n + 1) - math.lgamma(mode + 1) - math.lgamma(n - mode + 1) +
                mode * math.log(p) + (n - mode) * math.log1p(-p))
    pmf[mode] = math.exp(log_mode)
    for k in range(mode, n):
        pmf[k + 1] = pmf[k] * (n - k) / (k + 1) * p / (1 - p)
    for k in range(mode, 0, -1):
        pmf[k - 1] = pmf[k] * k / (n - k + 1) * (1 - p) / p
    total = sum(pmf)
    lo, below = 0, 0.0
    while below + pmf[lo] / total <= tail:
        below += pmf[lo] / total
        lo += 1
    hi, above = n, 0.0
    while above + pmf[hi] / total <= tail:
        above += pmf[hi] / total
        hi -= 1
    print(lo, hi)


def get(args):
    with open(args.file, encoding="utf-8") as f:
        obj = json.load(f)
    print(" ".join(str(obj[key]) for key in args.keys))


def feature(args):
    caps = json.load(sys.stdin)
    found = [f for f in caps.get("features", []) if f.get("name") == args.name]
    print("yes" if found and found[0].get("available") else "no")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("udp-recv")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ready", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--expect", type=int, default=0)
    p.add_argument("--idle", type=float, default=1.0)
    p.add_argument("--deadline", type=float, default=60.0)
    p = sub.add_parser("udp-send")
    p.add_argument("--dst", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--interval-us", type=float, required=True)
    p.add_argument("--size", type=int, default=64)
    p = sub.add_parser("udp-blast")
    p.add_argument("--dst", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--size", type=int, default=64)
    p = sub.add_parser("tcp-sink")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ready", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--deadline", type=float, default=60.0)
    p.add_argument("--warmup", type=float, default=0.3)
    p = sub.add_parser("tcp-source")
    p.add_argument("--dst", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--sndbuf", type=int, default=0)
    p = sub.add_parser("icmp-ping")
    p.add_argument("--dst", required=True)
    p.add_argument("--count", type=int, default=20)
    p.add_argument("--interval", type=float, default=0.05)
    p.add_argument("--wait", type=float, default=2.0)
    p = sub.add_parser("binom")
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--p", type=float, required=True)
    p.add_argument("--conf", type=float, default=0.99)
    p = sub.add_parser("get")
    p.add_argument("file")
    p.add_argument("keys", nargs="+")
    p = sub.add_parser("feature")
    p.add_argument("name")
    args = parser.parse_args()
    {"udp-recv": udp_recv, "udp-send": udp_send, "udp-blast": udp_blast,
     "tcp-sink": tcp_sink, "tcp-source": tcp_source, "icmp-ping": icmp_ping,
     "binom": binom, "get": get, "feature": feature}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
