#!/usr/bin/env bash
# The README's two commands work as written on a fresh Debian 12 as root: no sudo (a root
# image has none), each names a script that exists, .ci/run runs exactly the test command,
# and every topology or scenario file the README names is in the tree.
set -euo pipefail
src=$1
readme=$src/README.md
fail() { echo "readme_commands: $*" >&2; exit 1; }

block=$(awk '/^## The two commands/{found=1} found && /^```sh/{inside=1; next}
             inside && /^```/{exit} inside{print}' "$readme")
[[ -n $block ]] || fail "README has no sh block under '## The two commands'"
[[ $(grep -c . <<<"$block") -eq 2 ]] || fail "the block holds $(grep -c . <<<"$block") commands, not 2"
if grep -nw sudo "$readme" "$src/scripts/setup.sh" "$src/scripts/demo.sh" "$src/scripts/test.sh" \
     "$src/.ci/run"; then
  fail "sudo appears above; a root Debian image has no sudo"
fi
while read -r command; do
  script=$(awk '{print $2}' <<<"$command")
  [[ $(awk '{print $1}' <<<"$command") == bash ]] || fail "'$command' does not start with bash"
  [[ -f $src/$script ]] || fail "'$command' names $script, which is not in the tree"
done <<<"$(sed 's/ *#.*//' <<<"$block")"
grep -q 'scripts/test.sh' <<<"$block" || fail "the block has no scripts/test.sh"
grep -qx 'exec ./scripts/test.sh' "$src/.ci/run" || fail ".ci/run does not exec scripts/test.sh"

missing=0
for file in $(grep -oE '(topologies|scenarios)/[A-Za-z0-9._-]+\.(yaml|nft)' "$readme" | sort -u); do
  if [[ ! -f $src/$file ]]; then
    echo "README names $file, which is not in the tree" >&2
    missing=1
  fi
done
[[ $missing -eq 0 ]] || fail "files the README names are missing"
echo "readme_commands: the two commands, .ci/run and every file the README names check out"
