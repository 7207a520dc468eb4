#!/usr/bin/env bash
# Set the machine up (without the LLM test server, which the demo does not use), then run the demo.
#   scripts/demo.sh                          # embedded Tansu broker + redis-server + one worker
#   scripts/demo.sh --broker kafka           # Apache Kafka from the Maven jars instead
#   scripts/demo.sh --broker kafka://HOST:PORT --keep-running
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PW_SETUP_LLM=${PW_SETUP_LLM:-0} scripts/setup.sh
exec .venv/bin/pricewatch demo "$@"
