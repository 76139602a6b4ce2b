"""Calls nslabd from Python grpcio with stubs generated from proto/ right now.

Checks health, reflection's service list, System.GetCapabilities and Labs.CreateLab /
DeleteLab, as any other language's client would.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import grpc


def generate(out_dir, proto_dir, here):
    # Debian's protoc and its grpc_python_plugin: python3-grpc-tools bundles protoc 3.5,
    # which predates proto3 `optional`.
    files = [os.path.join("nslab/v1", name) for name in sorted(os.listdir(os.path.join(proto_dir, "nslab/v1")))]
    for include, protos in ((proto_dir, files), (here, ["health_reflection.proto", "reflection.proto"])):
        args = ["protoc", f"-I{include}", "-I/usr/include",
                "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin",
                f"--python_out={out_dir}", f"--grpc_python_out={out_dir}"] + protos
        if subprocess.run(args).returncode != 0:
            sys.exit(f"protoc failed for {protos}")
    sys.path.insert(0, out_dir)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--nslabd", required=True)
    parser.add_argument("--proto-dir", required=True)
    parser.add_argument("--topology", required=True)
    args = parser.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    work = tempfile.mkdtemp(prefix="nslab-interop-")
    socket = os.path.join(work, "nslabd.sock")
    daemon = subprocess.Popen([args.nslabd, "--socket", socket, "--state-dir", os.path.join(work, "state")],
                              stderr=open(os.path.join(work, "nslabd.log"), "w"))
    lab = f"py-{os.getpid()}"
    try:
        generate(work, args.proto_dir, here)
        import health_reflection_pb2 as health_pb2
        import health_reflection_pb2_grpc as health_grpc
        import reflection_pb2
        import reflection_pb2_grpc
        from nslab.v1 import labs_pb2, labs_pb2_grpc, system_pb2, system_pb2_grpc

        channel = grpc.insecure_channel(f"unix:{socket}")
        grpc.channel_ready_future(channel).result(timeout=20)

        health = health_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""))
        assert health.status == health_pb2.HealthCheckResponse.SERVING, health

        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        replies = reflection.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
        services = {s.name for reply in replies for s in reply.list_services_response.service}
        for expected in ("nslab.v1.Labs", "nslab.v1.Exec", "nslab.v1.System", "grpc.health.v1.Health"):
            assert expected in services, (expected, services)

        caps = system_pb2_grpc.SystemStub(channel).GetCapabilities(system_pb2.GetCapabilitiesRequest())
        names = {f.name for f in caps.features}
        assert {"netns", "veth", "netem", "tbf", "nftables"} <= names, names

        labs = labs_pb2_grpc.LabsStub(channel)
        with open(args.topology) as f:
            created = labs.CreateLab(labs_pb2.CreateLabRequest(topology_yaml=f.read(), name=lab))
        assert created.state == labs_pb2.LAB_STATE_READY, created
        assert [n.netns for n in created.nodes] == [f"{lab}-client", f"{lab}-server"]

        try:
            labs.CreateLab(labs_pb2.CreateLabRequest(topology_yaml="nodes: {a: {}}\nlinkz: []\n", name=lab + "-bad"))
            raise AssertionError("a bad topology was accepted")
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error
            assert "linkz" in error.details(), error.details()

        labs.DeleteLab(labs_pb2.DeleteLabRequest(name=lab))
        assert not os.path.exists(f"/run/netns/{lab}-client")
        print("interop: python grpcio client passed (health, reflection, capabilities, labs)")
    finally:
        if os.path.exists(f"/run/netns/{lab}-client"):
            subprocess.run(["ip", "netns", "delete", f"{lab}-client"], check=False)
            subprocess.run(["ip", "netns", "delete", f"{lab}-server"], check=False)
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
