"""Reads one nslab-ustack's counters through its control socket (--control), as nslabd does.

Calls UstackControlService.GetStats (proto/nslab/v1/ustack.proto) over the unix socket with
Python grpcio and stubs generated from proto/ by Debian's protoc (as tests/interop does), and
prints the counters the HTTP benchmark reports, one `name value` per line, then the node's
service-time histograms (UstackStats.service_times) as `service.KIND.le_NS count` lines:

  /usr/bin/python3 ustack_stats.py --proto-dir proto --stubs DIR --socket /tmp/x/ustack.sock

The stubs are generated into DIR on the first call and reused after. With --between BEFORE
AFTER (two such outputs) it prints instead the p50/p99 of the service times that fell between
them: `answer n=N p50<=X us p99<=Y us; handshake ...`.
"""
import argparse
import math
import os
import subprocess
import sys

COUNTERS = (
    ("nic", ("rx_missed_errors", "rx_packets", "tx_packets", "tx_queue_full", "tx_errors")),
    ("ipv4", ("out_discards",)),
    ("tcp", ("passive_opens", "curr_estab", "retrans_segs", "timeouts", "estab_resets",
             "in_rsts", "out_rsts", "no_socket", "listen_overflows", "listen_drops",
             "syn_queue_overflows")),
)


def stubs(proto_dir, out_dir):
    if not os.path.exists(os.path.join(out_dir, "nslab", "v1", "ustack_pb2_grpc.py")):
        os.makedirs(out_dir, exist_ok=True)
        args = ["protoc", f"-I{proto_dir}", "-I/usr/include",
                "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin",
                f"--python_out={out_dir}", f"--grpc_python_out={out_dir}", "nslab/v1/ustack.proto"]
        if subprocess.run(args).returncode != 0:
            sys.exit("ustack_stats.py: protoc failed on nslab/v1/ustack.proto "
                     "(needs protobuf-compiler and protobuf-compiler-grpc)")
    sys.path.insert(0, out_dir)


def read_buckets(path):
    """{kind: {le_ns: count}} from an output of this script."""
    buckets = {}
    for line in open(path):
        name, _, value = line.strip().partition(" ")
        if name.startswith("service."):
            _, kind, bound = name.split(".")
            buckets.setdefault(kind, {})[int(bound[len("le_"):])] = int(value)
    return buckets


def between(before_path, after_path):
    before, after = read_buckets(before_path), read_buckets(after_path)
    parts = []
    for kind in ("answer", "handshake"):
        delta = {le: n - before.get(kind, {}).get(le, 0) for le, n in after.get(kind, {}).items()}
        total = sum(delta.values())
        if total == 0:
            parts.append(f"{kind} n=0")
            continue
        quantiles = []
        for q in (0.5, 0.99):
            rank, seen = max(1, math.ceil(q * total)), 0
            for le in sorted(delta):
                seen += delta[le]
                if seen >= rank:
                    quantiles.append("above 2^20 us" if le == 0 else f"<={le / 1000:g} us")
                    break
        parts.append(f"{kind} n={total} p50 {quantiles[0]} p99 {quantiles[1]}")
    print("; ".join(parts))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--proto-dir")
    parser.add_argument("--stubs", help="directory for the generated stubs")
    parser.add_argument("--socket", help="the ustack's --control socket")
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--between", nargs=2, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args()
    if args.between:
        return between(*args.between)
    if not (args.proto_dir and args.stubs and args.socket):
        sys.exit("ustack_stats.py: --proto-dir, --stubs and --socket are needed to read stats")
    stubs(args.proto_dir, args.stubs)
    import grpc
    from nslab.v1 import ustack_pb2, ustack_pb2_grpc

    with grpc.insecure_channel("unix:" + args.socket) as channel:
        stub = ustack_pb2_grpc.UstackControlServiceStub(channel)
        try:
            response = stub.GetStats(ustack_pb2.UstackControlServiceGetStatsRequest(),
                                     timeout=args.timeout, wait_for_ready=True)
        except grpc.RpcError as error:
            sys.exit(f"ustack_stats.py: GetStats on {args.socket}: {error.code().name} "
                     f"{error.details()}")
    for layer, names in COUNTERS:
        message = getattr(response.stats, layer)
        for name in names:
            print(f"{layer}.{name} {getattr(message, name)}")
    # Bucket counts, not cumulative; le_0 is the bucket above every bound.
    for kind in ("answer", "handshake"):
        histogram = getattr(response.stats.service_times, kind)
        for bucket in histogram.buckets:
            print(f"service.{kind}.le_{bucket.le_ns} {bucket.count}")
        print(f"service.{kind}.le_0 {histogram.above_largest_bound}")


if __name__ == "__main__":
    main()
