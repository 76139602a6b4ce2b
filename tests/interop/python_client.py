"""Calls nslabd from Python grpcio with stubs generated from proto/ right now.

Over TCP with mutual TLS (certificates from tests/e2e/tls_certs.sh, as docs/api.md makes
them), checks health (per service), reflection's service list,
SystemService.GetCapabilities and LabsService.CreateLab / DeleteLab, as any other language's
client would; then a client that has no stubs at all learns the API from reflection v1 (as
grpcurl does) and calls it. The unix socket answers too; a TLS client without a certificate
does not get in.
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory


def generate(out_dir, proto_dir, here):
    # Debian's protoc and its grpc_python_plugin: python3-grpc-tools bundles protoc 3.5,
    # which predates proto3 `optional`.
    files = [os.path.join("nslab/v1", name) for name in sorted(os.listdir(os.path.join(proto_dir, "nslab/v1")))]
    # grpc.reflection.v1's file is copied under another name: a module path grpc/... would
    # shadow the grpc package itself.
    shutil.copy(os.path.join(proto_dir, "grpc/reflection/v1/reflection.proto"),
                os.path.join(out_dir, "reflection_v1.proto"))
    for include, protos in ((proto_dir, files), (here, ["health_reflection.proto", "reflection.proto"]),
                            (out_dir, ["reflection_v1.proto"])):
        args = ["protoc", f"-I{include}", "-I/usr/include",
                "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin",
                f"--python_out={out_dir}", f"--grpc_python_out={out_dir}"] + protos
        if subprocess.run(args).returncode != 0:
            sys.exit(f"protoc failed for {protos}")
    sys.path.insert(0, out_dir)


def reflection_only_client(channel, reflection_v1_pb2, reflection_v1_pb2_grpc):
    """What a tool with no generated code does: list, fetch descriptors, build, call."""
    stub = reflection_v1_pb2_grpc.ServerReflectionStub(channel)
    Request = reflection_v1_pb2.ServerReflectionRequest
    listed = list(stub.ServerReflectionInfo(iter([Request(list_services="")])))
    services = {s.name for s in listed[0].list_services_response.service}
    assert "nslab.v1.SystemService" in services, services
    replies = list(stub.ServerReflectionInfo(iter([Request(file_containing_symbol="nslab.v1.SystemService")])))
    pool = descriptor_pool.DescriptorPool()
    protos = [descriptor_pb2.FileDescriptorProto.FromString(raw)
              for raw in replies[0].file_descriptor_response.file_descriptor_proto]
    added = set()
    while len(added) < len(protos):  # dependencies first
        for proto in protos:
            if proto.name not in added and all(dep in added for dep in proto.dependency):
                pool.Add(proto)
                added.add(proto.name)
    method = pool.FindServiceByName("nslab.v1.SystemService").methods_by_name["GetVersion"]
    factory = message_factory.MessageFactory(pool)
    request_class = factory.GetPrototype(method.input_type)
    response_class = factory.GetPrototype(method.output_type)
    call = channel.unary_unary("/nslab.v1.SystemService/GetVersion",
                               request_serializer=request_class.SerializeToString,
                               response_deserializer=response_class.FromString)
    version = call(request_class())
    assert version.version and version.kernel == os.uname().release, version


def make_certificates(here, pki):
    script = os.path.join(here, "..", "e2e", "tls_certs.sh")
    subprocess.run(["bash", script, pki, "interop CA", "IP:127.0.0.1,DNS:localhost"], check=True)
    read = lambda name: open(os.path.join(pki, name), "rb").read()
    return read("ca.pem"), read("client.pem"), read("client.key")


def tcp_port(log_path, timeout=20):
    """nslabd was told port 0; its log says which port the kernel chose."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(r"mutual TLS, port (\d+)", open(log_path).read())
        if found:
            return int(found.group(1))
        time.sleep(0.1)
    sys.exit("nslabd's log names no TCP port:\n" + open(log_path).read())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--nslabd", required=True)
    parser.add_argument("--proto-dir", required=True)
    parser.add_argument("--topology", required=True)
    args = parser.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    work = tempfile.mkdtemp(prefix="nslab-interop-")
    socket = os.path.join(work, "nslabd.sock")
    pki = os.path.join(work, "pki")
    ca, client_cert, client_key = make_certificates(here, pki)
    log_path = os.path.join(work, "nslabd.log")
    daemon = subprocess.Popen([args.nslabd, "--socket", socket, "--state-dir", os.path.join(work, "state"),
                               "--listen", "127.0.0.1:0",
                               "--tls-cert", os.path.join(pki, "server.pem"),
                               "--tls-key", os.path.join(pki, "server.key"),
                               "--tls-ca", os.path.join(pki, "ca.pem")],
                              stderr=open(log_path, "w"))
    lab = f"py-{os.getpid()}"
    try:
        generate(work, args.proto_dir, here)
        import health_reflection_pb2 as health_pb2
        import health_reflection_pb2_grpc as health_grpc
        import reflection_pb2
        import reflection_pb2_grpc
        import reflection_v1_pb2
        import reflection_v1_pb2_grpc
        from nslab.v1 import labs_pb2, labs_pb2_grpc, system_pb2, system_pb2_grpc

        local = grpc.insecure_channel(f"unix:{socket}")
        grpc.channel_ready_future(local).result(timeout=20)
        # While nslabd probes the kernel and brings its labs back, its socket is served by the
        # recovery server, which answers NOT_SERVING and means "ask again" (docs/api.md); a
        # client waits for SERVING as a Kubernetes readiness probe does. Any other status is
        # a failure at once.
        deadline = time.monotonic() + 20
        while True:
            health = health_grpc.HealthStub(local).Check(health_pb2.HealthCheckRequest())
            if health.status == health_pb2.HealthCheckResponse.SERVING:
                break
            assert health.status == health_pb2.HealthCheckResponse.NOT_SERVING, health
            assert time.monotonic() < deadline, "nslabd did not become SERVING in 20 s"
            time.sleep(0.05)

        # What a Python client elsewhere does: nslabd's address, the CA that signed nslabd's
        # certificate, and this client's certificate and key from the CA nslabd trusts.
        address = f"127.0.0.1:{tcp_port(log_path)}"
        credentials = grpc.ssl_channel_credentials(root_certificates=ca, private_key=client_key,
                                                   certificate_chain=client_cert)
        channel = grpc.secure_channel(address, credentials)
        grpc.channel_ready_future(channel).result(timeout=20)

        anonymous = grpc.secure_channel(address, grpc.ssl_channel_credentials(root_certificates=ca))
        try:
            health_grpc.HealthStub(anonymous).Check(health_pb2.HealthCheckRequest(), timeout=10)
            raise AssertionError("a TLS client without a certificate was served")
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.UNAVAILABLE, error

        for service in ("", "nslab.v1.LabsService", "nslab.v1.SystemService"):
            health = health_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service))
            assert health.status == health_pb2.HealthCheckResponse.SERVING, (service, health)

        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        replies = reflection.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
        services = {s.name for reply in replies for s in reply.list_services_response.service}
        for expected in ("nslab.v1.LabsService", "nslab.v1.ExecService", "nslab.v1.SystemService",
                         "grpc.health.v1.Health"):
            assert expected in services, (expected, services)

        caps = system_pb2_grpc.SystemServiceStub(channel).GetCapabilities(
            system_pb2.GetCapabilitiesRequest()).capabilities
        names = {f.name for f in caps.features}
        assert {"netns", "veth", "netem", "tbf", "nftables"} <= names, names

        labs = labs_pb2_grpc.LabsServiceStub(channel)
        with open(args.topology) as f:
            created = labs.CreateLab(labs_pb2.CreateLabRequest(topology_yaml=f.read(), name=lab)).lab
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
        reflection_only_client(channel, reflection_v1_pb2, reflection_v1_pb2_grpc)
        print("interop: python grpcio client passed over mutual TLS (health, reflection, "
              "capabilities, labs, a client from reflection v1 alone; no certificate, no entry)")
    finally:
        if os.path.exists(f"/run/netns/{lab}-client"):
            subprocess.run(["ip", "netns", "delete", f"{lab}-client"], check=False)
            subprocess.run(["ip", "netns", "delete", f"{lab}-server"], check=False)
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
