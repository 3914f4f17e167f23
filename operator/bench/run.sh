#!/usr/bin/env bash
# Reconciles 200 ClmbStacks to Ready against the in-memory API server and prints the time to
# converge, the API requests made and the process's memory (VmHWM/VmRSS). Optimized build of
# this crate only. Usage: operator/bench/run.sh [STACKS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
cargo bench -p clmb-operator --bench converge -- "${1:-200}"
