#!/usr/bin/env bash
# Fails (listing the files) when a tracked or new C++ file is not clang-formatted.
set -euo pipefail
cd "$(dirname "$0")/.."
bad=()
while IFS= read -r file; do
  clang-format --dry-run --Werror "$file" >/dev/null 2>&1 || bad+=("$file")
done < <(git ls-files --cached --others --exclude-standard -- '*.cc' '*.h' | sort -u)
if ((${#bad[@]})); then
  printf 'not clang-formatted (run clang-format -i):\n' >&2
  printf '  %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "all C++ files are clang-formatted"
