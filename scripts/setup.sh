#!/usr/bin/env bash
# Install everything pricewatch, its tests and its demo need on a fresh Debian machine.
# Idempotent: each step checks first and is skipped when already done (a second run takes seconds).
#
#   scripts/setup.sh            # system packages, .venv, pip install -e '.[test,llm-test]', Kafka jars
#   PW_SETUP_LLM=0 scripts/setup.sh   # leave out the llama.cpp test server (its build takes minutes)
#
# What it installs:
#   apt:  redis-server, prometheus (with promtool), Java 17, Maven; cmake and a C++ compiler for llama.cpp
#   .venv: the project editable with the [test] extra, and [llm-test] (llama-cpp-python is built from
#          source once; the wheel is kept in $PW_WHEEL_CACHE, default ~/.cache/pricewatch/wheels)
#   .cache/kafka-libs/<version>/: the Apache Kafka broker jars from Maven Central (infra/kafka/pom.xml)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
VENV=$ROOT/.venv
PY=$VENV/bin/python
WHEELS=${PW_WHEEL_CACHE:-$HOME/.cache/pricewatch/wheels}
LLAMA_REQ="llama-cpp-python==0.3.36"
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1

say() { printf '[setup] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
have() { command -v "$1" >/dev/null 2>&1; }

java_major() {  # prints e.g. 17, or 0 when java is missing
    have java || { echo 0; return; }
    java -version 2>&1 | awk -F'"' '/version/ { split($2, v, "."); print (v[1] == "1" ? v[2] : v[1]); exit }'
}

# --- 1. system packages ---------------------------------------------------------------------------
missing=()
have redis-server || missing+=(redis-server)
{ have prometheus && have promtool; } || missing+=(prometheus)
[ "$(java_major)" -ge 17 ] || missing+=(openjdk-17-jre-headless)
have mvn || missing+=(maven)
# a CJK font, so the report's plots can print 通用名 and 企业 names
fc-list :lang=zh 2>/dev/null | grep -q . || missing+=(fonts-noto-cjk fontconfig)
if [ "${PW_SETUP_LLM:-1}" != 0 ]; then
    have cmake || missing+=(cmake)
    { have g++ && have make; } || missing+=(build-essential)
fi
if ! python3 -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    missing+=(python3 python3-venv)
fi
if [ ${#missing[@]} -gt 0 ]; then
    say "apt-get install ${missing[*]}"
    as_root apt-get update -q
    as_root apt-get install -y -q --no-install-recommends "${missing[@]}"
else
    say "system packages: present"
fi

# --- 2. virtual environment and the project -------------------------------------------------------
if [ ! -x "$PY" ]; then
    say "creating $VENV"
    python3 -m venv "$VENV"
fi
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { say "$VENV has Python < 3.11; remove it"; exit 1; }

extras="test"
mkdir -p "$WHEELS"
if [ "${PW_SETUP_LLM:-1}" != 0 ]; then
    extras="test,llm-test"
    # llama-cpp-python has no binary wheel on PyPI: build it once, keep the wheel outside the clone
    if ! ls "$WHEELS"/llama_cpp_python-0.3.36-*.whl >/dev/null 2>&1; then
        say "building the $LLAMA_REQ wheel into $WHEELS (a few minutes, once)"
        CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)} \
            "$PY" -m pip wheel -q --no-deps -w "$WHEELS" "$LLAMA_REQ"
    fi
fi

# pip is skipped when pyproject.toml and the extras are unchanged since the last good install
stamp=$VENV/.pricewatch-setup
want="$(sha256sum pyproject.toml | cut -d' ' -f1) $extras"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || ! "$PY" -c 'import stream.services' 2>/dev/null; then
    say "pip install -e '.[$extras]'"
    "$PY" -m pip install -q --find-links "$WHEELS" -e ".[$extras]"
    echo "$want" > "$stamp"
else
    say "python packages: up to date ($extras)"
fi

# --- 3. Apache Kafka jars -------------------------------------------------------------------------
"$PY" - <<'EOF'
import logging, sys
logging.basicConfig(level=logging.INFO, format="[setup] %(message)s")
from stream.services import KAFKA_VERSION, ensure_kafka_libs
try:
    print(f"[setup] Kafka {KAFKA_VERSION} jars: {ensure_kafka_libs()}", file=sys.stderr)
except Exception as exc:
    sys.exit(f"[setup] {exc}")
EOF

say "done"
