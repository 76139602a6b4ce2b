#!/usr/bin/env bash
# The image, with a real OCI engine (Debian's podman; ../shared/CONTAINERS.md): builds
# docker/Dockerfile, runs nslabd in it with the documented flags, drives a lab from the
# host's CLI through the mounted socket, restarts the container (labs survive, as they do
# a daemon restart), stops it, and checks that nothing is left behind.
#   image_test.sh SOURCE_DIR HOST_NSLAB
set -euo pipefail
src=$1
nslab_bin=$2
if [[ $(id -u) -ne 0 ]]; then
  echo "image_test: needs root (podman with --privileged, lab namespaces)" >&2
  exit 1
fi

image=localhost/nslab:test
container=nslabd-imgtest-$$
lab=imgtest-$$
work=$(mktemp -d /tmp/nslab-imgtest-XXXXXX)
# A private directory stands in for the host's /run/nslab, so a daemon the developer runs
# on the default socket is never touched; inside the container it is /run/nslab, as documented.
run_dir=$work/run-nslab
mkdir -p "$run_dir"
socket=$run_dir/nslabd.sock
P=(podman --runtime runc --cgroup-manager=cgroupfs)
U=(--ulimit nofile=1024:1024 --ulimit nproc=4096:4096)
# Containers that only run the CLI or a shell get no network at all: podman's default bridge
# network would add a bridge (cni-podman0) and NAT rules to the host, which a test must not.
NONET=(--network none)
bridge_before=$(ip -o link show cni-podman0 2>/dev/null || true)

cleanup() {
  "$nslab_bin" --socket "$socket" down "$lab" >/dev/null 2>&1 || true
  "${P[@]}" rm -f -t 5 "$container" >/dev/null 2>&1 || true
  for node in client server; do
    ip netns del "$lab-$node" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "image_test: FAIL: $*" >&2
  "${P[@]}" logs "$container" 2>&1 | tail -20 >&2 || true
  exit 1
}
step() { printf '\n== %s\n' "$*"; }
# While nslabd probes the kernel and recovers its labs, its socket answers the health check
# NOT_SERVING (docker/README.md): the container is starting, as its HEALTHCHECK's start period
# says. Wait for the socket, then for SERVING, as an orchestrator's readiness probe does.
wait_for_socket() {
  for _ in $(seq 100); do [[ -S $socket ]] && break; sleep 0.1; done
  [[ -S $socket ]] || fail "no socket at $socket after 10 s"
  for _ in $(seq 100); do
    "$nslab_bin" --socket "$socket" health >/dev/null 2>&1 && return
    sleep 0.1
  done
  fail "nslabd did not answer SERVING within 10 s of its socket appearing"
}

step "base image (made once per machine where no registry is reachable)"
bash "$src/scripts/base-image.sh"

step "build the image"
# The host's ccache is lent to the builder stage: the Release tree the test command built
# moments ago has compiled the same sources with the same compiler and flags.
ccache_dir=${CCACHE_DIR:-$HOME/.cache/ccache}
mkdir -p "$ccache_dir"
started=$(date +%s)
# --format docker: the OCI format has no HEALTHCHECK, and podman would drop it.
"${P[@]}" build --format docker --pull=never --network host "${U[@]}" -v "$ccache_dir:/ccache" \
  -t "$image" -f "$src/docker/Dockerfile" "$src"
echo "image built in $(($(date +%s) - started)) s"
size=$("${P[@]}" image inspect --format '{{.Size}}' "$image")
echo "image size: $((size / 1000000)) MB"
((size <= 300000000)) || fail "image is $((size / 1000000)) MB, over 300 MB"
for compiler in cc c++ gcc g++ clang; do
  if "${P[@]}" run --rm "${NONET[@]}" "${U[@]}" --entrypoint sh "$image" -c "command -v $compiler" \
    >/dev/null
  then
    fail "the runtime image has a compiler ($compiler)"
  fi
done

step "the client alone: docker run --rm IMAGE nslab ..."
version=$("${P[@]}" run --rm "${NONET[@]}" "${U[@]}" "$image" nslab --version) ||
  fail "nslab --version"
[[ -n $version ]] || fail "nslab --version printed nothing"

step "nslabd in the container, with the documented flags"
# `ip netns` makes /run/netns a shared mount on first use; do the same, by an exact name, so
# the :rshared volume below propagates the lab's namespaces to the host.
ip netns add "$lab-probe" && ip netns del "$lab-probe"
"${P[@]}" run -d --name "$container" --privileged --network host --pid host "${U[@]}" \
  -v "$run_dir:/run/nslab" -v /run/netns:/run/netns:rshared "$image" >/dev/null
wait_for_socket
"$nslab_bin" --socket "$socket" health || fail "nslab health did not answer SERVING"
"${P[@]}" healthcheck run "$container" || fail "the image's HEALTHCHECK failed"

step "a lab from the host's CLI through the mounted socket"
"$nslab_bin" --socket "$socket" up -t "$src/topologies/firewall-file.yaml" --name "$lab"
"$nslab_bin" --socket "$socket" exec "$lab" client -- ping -c1 -W2 10.7.0.2 ||
  fail "nslab exec ping"
# By the name alone: `ip netns list` stops at the first entry of another lab that is being
# torn down at that moment ("Peer netns reference is invalid").
[[ -e /run/netns/$lab-client ]] || fail "the host's /run/netns has no $lab-client"
ip netns exec "$lab-client" ping -c1 -W2 10.7.0.2 >/dev/null || fail "ip netns exec ping on the host"
# The ruleset came from the file beside the topology, read by the host's client and sent:
# the daemon in the container cannot see that file.
# Each check captures its command's output before matching: with pipefail, `cmd | grep -q`
# fails whenever grep exits at the match while cmd still writes (nft flushes line by line)
# and cmd dies of SIGPIPE.
chain=$(ip netns exec "$lab-server" nft list chain inet server_filter input)
grep -q "reject with tcp" <<<"$chain" ||
  fail "the server's ruleset from firewall-file.nft is not loaded"
listed=$("${P[@]}" run --rm "${NONET[@]}" "${U[@]}" -v "$run_dir:/run/nslab" "$image" nslab ls)
grep -q "$lab" <<<"$listed" || fail "nslab in a second container does not list the lab"

step "SIGTERM stops nslabd cleanly; the lab survives a container restart"
"${P[@]}" stop -t 10 "$container" >/dev/null
code=$("${P[@]}" inspect --format '{{.State.ExitCode}}' "$container")
[[ $code == 0 ]] || fail "nslabd exited with $code on SIGTERM"
ip netns exec "$lab-client" ping -c1 -W2 10.7.0.2 >/dev/null || fail "the lab died with nslabd"
rm -f "$socket"
"${P[@]}" start "$container" >/dev/null
wait_for_socket
shown=$("$nslab_bin" --socket "$socket" show "$lab")
grep -q ready <<<"$shown" || fail "the lab is not ready after restart"
"$nslab_bin" --socket "$socket" exec "$lab" client -- ping -c1 -W2 10.7.0.2 ||
  fail "nslab exec ping after restart"

step "down, stop, and nothing left behind"
"$nslab_bin" --socket "$socket" down "$lab"
"${P[@]}" stop -t 10 "$container" >/dev/null
"${P[@]}" rm "$container" >/dev/null
left=$(ls /run/netns | grep -c "^$lab-" || true)
[[ $left == 0 ]] || fail "$left namespaces of $lab left on the host"
# The lab's state file is gone; .lock (nslabd's hold on the directory) stays, as lock files do.
left=$(ls -A "$run_dir/labs" 2>/dev/null | grep -vx '.lock' || true)
[[ -z $left ]] || fail "state files left: $left"
if [[ -z $bridge_before ]] && ip -o link show cni-podman0 >/dev/null 2>&1; then
  fail "the test left podman's bridge cni-podman0 in the host's namespace"
fi
echo "image_test: ok"
