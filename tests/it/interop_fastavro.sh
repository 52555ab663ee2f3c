#!/usr/bin/env bash
# interop_fastavro.sh [FILE.bin...] - proves the wire format with an independent reader:
# Python's fastavro decodes docbus messages (default tests/golden/envelope-1.bin) using
# only schemas/*.avsc and compares them with their .json descriptions. Uses (creates on
# first run) the git-ignored virtualenv .venv/ with fastavro. Needs no broker.
# Exit 0 when all match, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/../.."
venv=.venv
if [ ! -x "$venv/bin/python" ]; then
  echo "interop_fastavro: creating $venv"
  python3 -m venv "$venv" || { echo "interop_fastavro: FAILED: python3 -m venv $venv" >&2; exit 1; }
fi
if ! "$venv/bin/python" -c 'import fastavro' 2>/dev/null; then
  echo "interop_fastavro: installing fastavro into $venv"
  "$venv/bin/pip" install -q fastavro ||
    { echo "interop_fastavro: FAILED: pip install fastavro (is PyPI reachable?)" >&2; exit 1; }
fi
args=()
for f in "$@"; do args+=("$(realpath "$f")"); done
exec "$venv/bin/python" tests/it/interop_fastavro.py "${args[@]}"
