#!/usr/bin/env bash
# Makes the Debian 12 base images the Dockerfile starts from, when podman lacks them. There
# is no registry on the machines this project is built on (../shared/CONTAINERS.md), so the
# image `debian:bookworm-slim` is made locally from Debian's mirror with mmdebstrap, exactly
# once per machine; `debian:bookworm` is the same image under the builder's name.
# With a registry (a developer's Docker), nothing here is needed: `FROM` pulls them.
set -euo pipefail

slim=docker.io/library/debian:bookworm-slim
full=docker.io/library/debian:bookworm
if podman image exists "$slim" && podman image exists "$full"; then
  exit 0
fi
work=$(mktemp -d /tmp/nslab-base-XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "base-image: making $slim with mmdebstrap (once per machine)"
# The official slim image's trimming (debuerreotype --slim): no manuals, docs or locales;
# and, like it, /usr merged by the bootstrap rather than by usrmerge (which brings all of perl).
mmdebstrap --quiet --variant=minbase \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr --include=usr-is-merged \
  bookworm "$work/bookworm.tar" >/dev/null
podman import --quiet "$work/bookworm.tar" "$slim" >/dev/null
podman tag "$slim" "$full"
