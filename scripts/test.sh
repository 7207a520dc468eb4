#!/usr/bin/env bash
# Set the machine up (idempotent, seconds when nothing changed), then run pytest with the given arguments.
#   scripts/test.sh                       # everything: unit tests, doctests, real Kafka/Redis/Prometheus/LLM tests
#   scripts/test.sh -m "not kafka" -x     # any pytest arguments pass through
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
