#!/usr/bin/env bash
# Heavier simulator runs than CI's: longer seeds, more clients, more seeds, every protocol.
# Not part of `npm test`. Usage: bash scripts/sim-soak.sh [first-seed] [seeds]
# Each line is bounded by its seed count; a failure prints its replay command and the run stops.
set -euo pipefail
first="${1:-1001}"
seeds="${2:-1000}"
cd "$(dirname "$0")/.."
npm run build >/dev/null
sim() { node dist/cli/main.js sim --first "$first" --seeds "$seeds" --jobs 2 "$@"; }
sim --protocol raft
sim --protocol primary-backup
sim --protocol pbft --clients 8 --duration 10
sim --protocol pbft --replicas 7 --f 2 --clients 8 --duration 10
