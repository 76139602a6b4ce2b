#!/bin/sh
# The image runs nslabd by default (flags may follow: `IMAGE --listen ...`); any other
# program the image holds runs instead when named first: `IMAGE nslab ls`.
set -e
case "${1:-}" in
  "" | -*) exec nslabd "$@" ;;
  *) exec "$@" ;;
esac
