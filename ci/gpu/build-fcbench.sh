#!/usr/bin/env bash
# Build the fcbench binary that loads llama.cpp as shared libraries (`--features llama-shared`)
# for a portable CPU level, in its own target folder so the default (static, native) build is
# untouched. Prints the binary's path. The libraries llama-cpp-sys-2 builds alongside (CPU only)
# are copied beside the binary, where its RUNPATH ($ORIGIN) finds them; LD_LIBRARY_PATH pointing
# at another build of the same source (ci/gpu/build-llama-libs.sh) takes precedence.
#
#   FCBENCH_TARGET_CPU=x86-64-v3 ci/gpu/build-fcbench.sh [extra cargo args]
set -euo pipefail
cd "$(dirname "$0")/../.."
cpu="${FCBENCH_TARGET_CPU:-x86-64-v3}"
if [[ "$cpu" == native ]]; then
  echo "build-fcbench: target-cpu=native makes a binary for this CPU only; this build is meant to move" >&2
  exit 2
fi
RUSTFLAGS="-C target-cpu=$cpu" cargo build --release -p fcbench --no-default-features \
  --features llama-shared --target-dir target/portable "$@" >&2
echo "$PWD/target/portable/release/fcbench"
