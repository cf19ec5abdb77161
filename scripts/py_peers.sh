#!/usr/bin/env bash
# The venv the bench's Python peers run in (bench/py/peers.py: asyncio, uvloop, aiohttp).
#
# Usage:  scripts/py_peers.sh VENV_DIR   make VENV_DIR from bench/py/requirements.txt (every
#                                        package pinned) unless it already holds exactly that
#                                        file's packages; print the venv's python on stdout
#
# Fast when the venv is current: one file comparison, no Python started. Messages go to stderr;
# any failure exits non-zero with a line saying what failed, which the bench prints.
# Installing needs CPython 3 with its venv module (python3) and PyPI, as on CI and the dev
# machines. Only wheels are taken, so a Python without wheels for these pins fails at once
# instead of compiling uvloop's C for minutes.
set -euo pipefail

venv=${1:-}
[ -n "$venv" ] || { echo "usage: $0 VENV_DIR" >&2; exit 2; }
requirements="$(cd "$(dirname "$0")/.." && pwd)/bench/py/requirements.txt"
stamp="$venv/requirements.installed"

fail() { echo "py_peers.sh: $*" >&2; exit 1; }

if [ -x "$venv/bin/python" ] && cmp -s "$requirements" "$stamp"; then
  echo "$venv/bin/python"
  exit 0
fi

command -v python3 >/dev/null 2>&1 || fail "no python3 on PATH (the Python peers need CPython 3.9 or later)"
version=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) \
  || fail "python3 on PATH ($(command -v python3)) does not run"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 9))' \
  || fail "python3 is $version; the Python peers need 3.9 or later"

echo "py_peers.sh: installing uvloop and aiohttp (PyPI, pinned in bench/py/requirements.txt) into $venv" >&2
rm -rf "$venv"
python3 -m venv "$venv" || fail "python3 -m venv $venv failed (on Debian the venv module is the python3-venv package)"
"$venv/bin/pip" install -q --disable-pip-version-check --no-input --only-binary :all: -r "$requirements" >&2 \
  || fail "pip could not install bench/py/requirements.txt into $venv (is PyPI reachable? are there wheels for $(python3 -V 2>&1)?)"
"$venv/bin/python" -c 'import uvloop, aiohttp' || fail "the venv at $venv cannot import uvloop and aiohttp"
cp "$requirements" "$stamp"
echo "$venv/bin/python"
