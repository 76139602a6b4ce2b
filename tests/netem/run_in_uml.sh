#!/usr/bin/env bash
# Runs one command inside Debian's user-mode-linux kernel, which has sch_netem (this machine's
# kernel does not), and hands its output and exit code back as if it had run here.
#
#   run_in_uml.sh --work DIR [--keep PATH]... -- COMMAND [ARG]...
#
# The guest's root is the host's filesystem (hostfs), so nothing the guest writes may land
# outside DIR: it gets private tmpfs mounts over /run, /tmp, /var/tmp and /dev/shm, HOME and
# TMPDIR in DIR, and UML's own files (uml_dir) in DIR. Paths under /tmp that the command needs
# (a build tree in a fresh clone under /tmp, say) are named with --keep and bound back over the
# private /tmp. Kernel modules come from /usr/lib/uml/modules, reached through a private root
# so that the host's /lib/modules is neither needed nor touched.
#
# Exit code: the command's; 1 with the kernel's log when the guest did not get to report one.
set -euo pipefail

work=""
keep=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --work) work=$2; shift 2 ;;
    --keep) keep+=("$2"); shift 2 ;;
    --) shift; break ;;
    *) echo "run_in_uml.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
if [[ -z $work || $# -eq 0 ]]; then
  echo "usage: run_in_uml.sh --work DIR [--keep PATH]... -- COMMAND [ARG]..." >&2
  exit 2
fi

uml=${NSLAB_UML_KERNEL:-/usr/bin/linux.uml}
if [[ ! -x $uml ]]; then
  echo "run_in_uml.sh: $uml not found: install Debian's user-mode-linux (scripts/setup.sh does)" >&2
  exit 1
fi
release=$("$uml" --version 2>/dev/null | awk '/User Mode Linux/ {print $NF}' | sed 's/^v//')
modules=/usr/lib/uml/modules/$release
if [[ ! -d $modules ]]; then
  echo "run_in_uml.sh: no modules for UML $release under /usr/lib/uml/modules" >&2
  exit 1
fi

rm -rf "$work"
mkdir -p "$work/home" "$work/tmp" "$work/uml"
work=$(cd "$work" && pwd)
init=$work/guest-init.sh
marker=.nslab-uml-private-$$-$RANDOM
log=$work/guest.log
code_file=$work/exit-code

{
  echo '#!/bin/sh'
  echo '# PID 1 of the guest: private mounts, modules, the command, then power off.'
  echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  echo 'mount -t proc proc /proc'
  echo 'mount -t sysfs sysfs /sys'
  echo 'mount -t tmpfs -o mode=755 tmpfs /run'
  echo 'mkdir -p /run/keep'
  local_index=0
  for path in "${keep[@]}" "$work"; do
    echo "mkdir -p /run/keep/$local_index && mount --bind $(printf '%q' "$path") /run/keep/$local_index"
    local_index=$((local_index + 1))
  done
  echo 'mount -t tmpfs -o mode=1777 tmpfs /tmp'
  echo 'mount -t tmpfs -o mode=1777 tmpfs /var/tmp'
  echo 'mkdir -p /dev/shm && mount -t tmpfs -o mode=1777 tmpfs /dev/shm'
  local_index=0
  for path in "${keep[@]}" "$work"; do
    echo "mkdir -p $(printf '%q' "$path") 2>/dev/null; mount --bind /run/keep/$local_index $(printf '%q' "$path")"
    local_index=$((local_index + 1))
  done
  # Markers that must not reach the host: proof, checked below, that the private mounts held.
  for dir in /run /tmp /var/tmp /dev/shm; do
    echo "touch $dir/$marker"
  done
  echo "mkdir -p /run/uml-root/lib/modules/$release"
  echo "mount --bind $modules /run/uml-root/lib/modules/$release"
  echo 'for module in veth bridge tun vxlan ifb 8021q sch_netem sch_tbf sch_htb nf_tables; do'
  echo '  modprobe -d /run/uml-root "$module" || echo "guest: modprobe $module failed" >&2'
  echo 'done'
  echo 'ip link set lo up'
  echo "export HOME=$(printf '%q' "$work/home") TMPDIR=$(printf '%q' "$work/tmp") LANG=C.UTF-8"
  echo "cd $(printf '%q' "$work")"
  printf '%q ' "$@"
  echo "> $(printf '%q' "$log") 2>&1 < /dev/null"
  echo "echo \$? > $(printf '%q' "$code_file")"
  echo 'sync'
  echo 'echo o > /proc/sysrq-trigger'
  echo 'sleep 60'
} > "$init"
chmod +x "$init"

# One guest CPU; memory is a file UML maps (unlinked at once). timeout kills UML's whole
# process group, guest processes included, if the guest hangs.
status=0
timeout --kill-after=10 "${NSLAB_UML_TIMEOUT:-900}" "$uml" mem=1G root=/dev/root \
  rootfstype=hostfs rootflags=/ rw init="$init" uml_dir="$work/uml" con=null con0=null,fd:2 \
  > "$work/kernel.log" 2>&1 || status=$?

[[ -f $log ]] && cat "$log"
for dir in /run /tmp /var/tmp /dev/shm; do
  if [[ -e $dir/$marker ]]; then
    rm -f "${dir:?}/$marker"
    echo "run_in_uml.sh: the guest wrote $dir/$marker on the host: its private $dir did not hold" >&2
    exit 1
  fi
done
if [[ ! -f $code_file ]]; then
  echo "run_in_uml.sh: the guest did not report an exit code (UML exited with $status); kernel log:" >&2
  grep -v '^ \[<' "$work/kernel.log" | tail -40 >&2
  exit 1
fi
exit "$(cat "$code_file")"
