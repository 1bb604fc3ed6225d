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
# llama-cpp-sys-2 hard-links only the unversioned symlinks beside the binary; copy the real
# files and their soname links from its newest build, so the RUNPATH ($ORIGIN) finds them.
bin="$PWD/target/portable/release"
lib="$(ls -td target/portable/release/build/llama-cpp-sys-2-*/out/lib 2>/dev/null | while read -r d; do
  [[ -e "$d/libllama.so.0" ]] && echo "$d" && break; done)"
[[ -n "$lib" ]] || { echo "build-fcbench: no libllama.so.0 in llama-cpp-sys-2's build" >&2; exit 1; }
for f in "$lib"/lib*.so*; do
  rm -f "$bin/$(basename "$f")"
  cp -P "$f" "$bin/"
done
# A RUNPATH serves only the object that carries it: give each library $ORIGIN too, so libllama
# finds libggml-cpu beside it. LD_LIBRARY_PATH still comes first for every one of them.
if command -v patchelf >/dev/null; then
  for f in "$bin"/lib*.so.*.*; do patchelf --set-rpath '$ORIGIN' "$f"; done
else
  echo "build-fcbench: no patchelf: run the binary with LD_LIBRARY_PATH=$bin (or install patchelf)" >&2
fi
echo "$bin/fcbench"
