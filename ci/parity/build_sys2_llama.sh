#!/usr/bin/env bash
# Build the llama.cpp that llama-cpp-sys-2 0.1.160 vendors as shared libraries, the way fcbench's
# `cargo build --release` builds it (GGML_NATIVE=ON from target-cpu=native, OpenMP from
# llama-cpp-2's default features, the cc crate's C flags), once per CMake build type:
#   RelWithDebInfo (-O2 -g)  = what fcbench gets today (profile.release has debug = 1, so cargo
#                              sets DEBUG=true and llama-cpp-sys-2's build.rs picks RelWithDebInfo)
#   Release        (-O3)     = what llama-cpp-python's wheel build uses
# Usage: nice -n 19 ci/parity/build_sys2_llama.sh [OUT_DIR]   (libs land in OUT_DIR/<type>/bin)
set -euo pipefail
OUT=${1:-/tmp/sys2build}
SRC=$(ls -d ~/.cargo/registry/src/*/llama-cpp-sys-2-0.1.160/llama.cpp | head -1)
FLAGS="-ffunction-sections -fdata-sections -fPIC -m64 -w"
for BT in RelWithDebInfo Release; do
  cmake -S "$SRC" -B "$OUT/$BT" -G "Unix Makefiles" -DCMAKE_BUILD_TYPE=$BT -DBUILD_SHARED_LIBS=ON \
    -DCMAKE_C_FLAGS="$FLAGS" -DCMAKE_CXX_FLAGS="$FLAGS" -DGGML_NATIVE=ON -DGGML_OPENMP=ON \
    -DLLAMA_BUILD_COMMON=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF \
    -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_APP=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DGGML_BLAS=OFF \
    -DGGML_METAL=OFF > "$OUT/$BT.cfg.log"
  cmake --build "$OUT/$BT" --target llama -j "$(nproc)"
done
