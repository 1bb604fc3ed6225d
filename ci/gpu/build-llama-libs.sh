#!/usr/bin/env bash
# Build llama.cpp as shared libraries (libllama.so + libggml*.so) from the exact source that the
# locked llama-cpp-sys-2 vendors, with a chosen ggml backend, for a binary built with
# `--features llama-shared` (README "GPU"). Same source → same sonames and ABI as the libraries
# llama-cpp-sys-2 builds itself, so either set can sit beside the binary.
#
#   ci/gpu/build-llama-libs.sh --backend cuda --out DIR [--src DIR] [--tools DIR] [--native]
#                              [--jobs N] [-- EXTRA CMAKE ARGS]
#   ci/gpu/build-llama-libs.sh --pack-source FILE.tar.xz   # the source, for a host without cargo
#
# --backend  cpu | cuda | vulkan | hip | metal (default cpu). CUDA: CMAKE_CUDA_ARCHITECTURES from
#            $CUDA_ARCHS (default: native, the GPUs of this host).
# --src      an unpacked --pack-source tarball; default: the vendored source, found with
#            `cargo metadata` from this checkout's Cargo.lock.
# --tools    a folder with llama.cpp's llama-bench/ and batched-bench/ sources (the crate vendors
#            their READMEs only): also build llama-bench and llama-batched-bench, the peers that
#            fcbench's GPU figures are compared against.
# --native   compile the CPU backend for this host's CPU (GGML_NATIVE); default portable.
# Writes DIR/lib*.so*, DIR/bin/ (tools), and DIR/llama-libs.json: source, backend, every cmake
# flag, compilers. fcbench records that file in each manifest when it loads libraries from DIR.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
backend=cpu out="" src="" tools="" native=OFF jobs="$(nproc)" pack="" extra=()
while (($#)); do
  case "$1" in
    --backend) backend="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --src) src="$2"; shift 2 ;;
    --tools) tools="$2"; shift 2 ;;
    --native) native=ON; shift ;;
    --jobs) jobs="$2"; shift 2 ;;
    --pack-source) pack="$2"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "build-llama-libs: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

vendored() {
  # The version Cargo.lock pins, unpacked where cargo keeps registry sources.
  local version dir
  version="$(awk '/^name = "llama-cpp-sys-2"$/ {getline; gsub(/"/, "", $3); print $3}' "$repo/Cargo.lock")"
  [[ -n "$version" ]] || { echo "build-llama-libs: Cargo.lock pins no llama-cpp-sys-2" >&2; exit 2; }
  for dir in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"llama-cpp-sys-2-$version"; do
    [[ -f "$dir/llama.cpp/CMakeLists.txt" ]] && { echo "$dir"; return; }
  done
  echo "build-llama-libs: llama-cpp-sys-2 $version is not unpacked yet: run \`cargo fetch\` first, or pass --src DIR" >&2
  exit 2
}

if [[ -n "$pack" ]]; then
  crate="$(vendored)"
  name="$(basename "$crate")"                       # llama-cpp-sys-2-0.1.160
  tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/src"
  # Only what a library build reads; other GPU backends' sources stay (they are small) so the
  # same tarball builds CUDA, Vulkan, HIP or Metal.
  (cd "$crate/llama.cpp" && tar cf - CMakeLists.txt LICENSE cmake include src common vendor tools ggml) |
    (cd "$tmp/src" && tar xf -)
  echo "llama-cpp-sys-2 ${name##*-}" > "$tmp/src/FCBENCH_SOURCE"
  tar cJf "$pack" -C "$tmp" src
  echo "packed $(du -h "$pack" | cut -f1) of llama.cpp source from $name into $pack"
  exit 0
fi

[[ -n "$out" ]] || { echo "build-llama-libs: --out DIR is required" >&2; exit 2; }
if [[ -z "$src" ]]; then
  crate="$(vendored)"
  src="$crate/llama.cpp"
  source_name="llama-cpp-sys-2 $(basename "$crate" | sed 's/.*-//')"
else
  src="$(cd "$src" && pwd)"
  source_name="$(cat "$src/FCBENCH_SOURCE" 2>/dev/null || echo "unknown (no FCBENCH_SOURCE in $src)")"
fi
[[ -f "$src/CMakeLists.txt" ]] || { echo "build-llama-libs: no llama.cpp source at $src" >&2; exit 2; }
mkdir -p "$out"
out="$(cd "$out" && pwd)"
work="$out/.build"
mkdir -p "$work"
# The copy below may sit inside another git checkout (e.g. this repo's .gpu/): stop llama.cpp's
# build-info from reading that repo's HEAD as "llama.cpp commit" (it then says "unknown").
export GIT_CEILING_DIRECTORIES="$work"

# The registry's copy is read-only in spirit: build from a private copy (tools get overlaid).
rm -rf "$work/src"
mkdir -p "$work/src"
(cd "$src" && tar cf - --exclude=./.build .) | (cd "$work/src" && tar xf -)
targets=(llama)
tool_flags=(-DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_COMMON=OFF)
if [[ -n "$tools" ]]; then
  for t in llama-bench batched-bench; do
    [[ -f "$tools/$t/CMakeLists.txt" ]] || { echo "build-llama-libs: --tools $tools has no $t/CMakeLists.txt" >&2; exit 2; }
    rm -rf "$work/src/tools/$t"; cp -r "$tools/$t" "$work/src/tools/$t"
  done
  # Only these two: the other tools' sources are not vendored.
  printf 'find_package(Threads REQUIRED)\nllama_add_compile_flags()\nadd_subdirectory(batched-bench)\nadd_subdirectory(llama-bench)\n' \
    > "$work/src/tools/CMakeLists.txt"
  targets+=(llama-bench llama-batched-bench)
  tool_flags=(-DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_COMMON=ON)
fi

flags=(
  -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON
  -DGGML_NATIVE="$native" -DGGML_OPENMP=ON -DGGML_CCACHE=OFF
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF
  -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF
  "${tool_flags[@]}"
)
case "$backend" in
  cpu) ;;
  cuda) flags+=(-DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCHS:-native}" -DGGML_CUDA_NCCL=OFF) ;;
  vulkan) flags+=(-DGGML_VULKAN=ON) ;;
  hip) flags+=(-DGGML_HIP=ON) ;;
  metal) flags+=(-DGGML_METAL=ON) ;;
  *) echo "build-llama-libs: --backend is cpu, cuda, vulkan, hip or metal" >&2; exit 2 ;;
esac
flags+=("${extra[@]}")
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)

start=$(date +%s)
cmake -S "$work/src" -B "$work/build" "${gen[@]}" "${flags[@]}"
cmake --build "$work/build" -j "$jobs" --target "${targets[@]}"
secs=$(( $(date +%s) - start ))

find "$work/build" -name 'lib*.so*' \( -type f -o -type l \) -exec cp -P {} "$out/" \;
if [[ -n "$tools" ]]; then
  mkdir -p "$out/bin"
  for t in llama-bench llama-batched-bench; do
    find "$work/build" -name "$t" -type f -perm -u+x -exec cp {} "$out/bin/" \;
  done
fi
[[ -e "$out/libllama.so" ]] || { echo "build-llama-libs: no libllama.so was built" >&2; exit 1; }

cc_version="$( (cc --version 2>/dev/null || true) | head -1)"
nvcc_version="$( (nvcc --version 2>/dev/null || true) | tail -1)"
python3 - "$out/llama-libs.json" "$source_name" "$backend" "$secs" "$cc_version" "$nvcc_version" "${flags[@]}" <<'PY'
import json, sys, datetime, platform
path, source, backend, secs, cc, nvcc, *flags = sys.argv[1:]
json.dump({
    "source": source,
    "ggml_backend": backend,
    "cmake_flags": flags,
    "built_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "build_seconds": int(secs),
    "host": platform.node(),
    "compiler": cc,
    "nvcc": nvcc or None,
    "script": "ci/gpu/build-llama-libs.sh",
}, open(path, "w"), indent=2)
PY
echo "built llama.cpp ($source_name, $backend) in ${secs}s into $out: $(cd "$out" && ls lib*.so | tr '\n' ' ')"
