"""Reads one nslab-ustack's counters through its control socket (--control), as nslabd does.

Calls UstackControlService.GetStats (proto/nslab/v1/ustack.proto) over the unix socket with
Python grpcio and stubs generated from proto/ by Debian's protoc (as tests/interop does), and
prints the counters the HTTP benchmark reports, one `name value` per line:

  /usr/bin/python3 ustack_stats.py --proto-dir proto --stubs DIR --socket /tmp/x/ustack.sock

The stubs are generated into DIR on the first call and reused after.
"""
import argparse
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


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--proto-dir", required=True)
    parser.add_argument("--stubs", required=True, help="directory for the generated stubs")
    parser.add_argument("--socket", required=True, help="the ustack's --control socket")
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
