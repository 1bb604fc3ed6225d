#!/usr/bin/env bash
# Prepare a run of fcbench on a GPU host that has a CUDA toolkit but no Rust and no network
# (README "GPU"): a portable fcbench binary that loads llama.cpp as shared libraries, the
# llama.cpp source it was built against, and the model, split into bundles that each fit one
# transfer. On the GPU host, ci/gpu/device-run.sh builds the CUDA libraries from that source and
# runs the measurements.
#
#   ci/gpu/bundle.sh [--model smollm2] [--part-mib 44] [--out .gpu]
#
# Writes OUT/b1 (binary, source, tools if .gpu/tools-src exists, model part 1) and OUT/b2 (the
# rest of the model), and prints each bundle's size. The binary targets x86-64-v3 (AVX2), never
# this machine's CPU: it is meant to run elsewhere.
set -euo pipefail
cd "$(dirname "$0")/../.."
model=smollm2 part_mib=44 out=.gpu
while (($#)); do
  case "$1" in
    --model) model="$2"; shift 2 ;;
    --part-mib) part_mib="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "bundle: unknown argument $1" >&2; exit 2 ;;
  esac
done
bin="$(ci/gpu/build-fcbench.sh)"
rm -rf "$out/b1" "$out/b2"
mkdir -p "$out/b1" "$out/b2"
cp "$bin" "$out/b1/fcbench"
strip "$out/b1/fcbench"
ci/gpu/build-llama-libs.sh --pack-source "$out/b1/llama-src.tar.xz" >&2
if [[ -d .gpu/tools-src ]]; then
  tar cJf "$out/b1/tools-src.tar.xz" -C .gpu tools-src
fi
# The model from the cache (fetched with the static build's fcbench, which needs no GPU).
path="$("$bin" models list | awk -v m="$model" '$1 == m && $2 == "cached" {print $NF}' | tr -d '()')"
cache="$("$bin" models list | sed -n 's/^cache: //p')"
file="$cache/models/$path"
[[ -f "$file" ]] || { echo "bundle: $model is not cached ($file): run fcbench models fetch $model" >&2; exit 2; }
sha256sum "$file" | awk -v f="$path" '{print $1 "  " f}' > "$out/b1/model.sha256"
split -b "${part_mib}M" -d -a 2 "$file" "$out/b1/model.part."
# Parts after the first go in the second bundle.
for p in "$out/b1"/model.part.*; do
  [[ "$p" == "$out/b1/model.part.00" ]] || mv "$p" "$out/b2/"
done
tree_bytes="$(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1)"
for b in b1 b2; do
  bytes="$(du -cb "$out/$b" | tail -1 | cut -f1)"
  total=$((bytes + tree_bytes))
  echo "$out/$b: $((bytes >> 20)) MiB (+ $((tree_bytes >> 20)) MiB of tree) = $((total >> 20)) MiB" >&2
  if ((total > 63 << 20)); then
    echo "bundle: $out/$b does not fit one 64 MiB transfer; lower --part-mib or add a bundle" >&2
    exit 1
  fi
done
echo "$out"
