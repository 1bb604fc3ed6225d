#!/usr/bin/env bash
# fcbench on a GPU host with a CUDA toolkit but no Rust and no network, in two steps because
# one transfer to such a host is limited (bundles from ci/gpu/bundle.sh):
#
#   ci/gpu/device-run.sh start  B1   # unpack; build llama.cpp (CUDA, shared) in the background
#   ci/gpu/device-run.sh finish B2   # join the model; wait for the build; measure into $OUT
#
# What `finish` measures, all on this host in one sitting (README "GPU"):
#   gpu/heads.json        fcbench heads (step efficiency, synchronised blocks)
#   gpu/llama-bench.json  llama-bench decode at the same depth (the peer for N = 1)
#   gpu/batched.jsonl     llama-batched-bench -pps (the peer for the efficiency curve)
#   gpu/run/, cpu/run/    fcbench run on the GPU, and on this host's CPU (--device cpu)
#   gpu/ratios.md         ci/gpu/peer_ratios.py: the goals as ratios, each with its verdict
#   table.md              fcbench table of the CPU and GPU runs side by side
# Env: W (work folder, /tmp/fcbench-gpu), OUT, GPU_BACKEND (cuda), CUDA_ARCHS (native),
# LIMIT (seconds `finish` may use, 480), MODEL (smollm2), QUICK=1 (tiny counts: to try the
# script itself on a CPU machine, with GPU_BACKEND=cpu).
set -uo pipefail
step="${1:?start|finish}"
bundle="$(cd "${2:?bundle folder}" && pwd)"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
W="${W:-/tmp/fcbench-gpu}"
OUT="${OUT:-$W/out}"
MODEL="${MODEL:-smollm2}"
T0=$(date +%s)
el() { echo $(($(date +%s) - T0)); }

if [[ "$step" == start ]]; then
  mkdir -p "$W" || exit 2
  cd "$W" || exit 2
  tar xJf "$bundle/llama-src.tar.xz" || { echo "start: cannot unpack the source"; exit 2; }
  [[ -f "$bundle/tools-src.tar.xz" ]] && tar xJf "$bundle/tools-src.tar.xz"
  cp "$bundle/fcbench" "$bundle/model.sha256" "$bundle"/model.part.* "$W/"
  cp "$repo/ci/gpu/build-llama-libs.sh" "$repo/ci/gpu/peer_ratios.py" "$W/"
  chmod +x fcbench build-llama-libs.sh
  tools=()
  [[ -d tools-src ]] && tools=(--tools "$W/tools-src")
  rm -f build.rc
  # The CPU part of these libraries is compiled for this host (--native): they run here only.
  setsid nohup bash -c "CUDA_ARCHS='${CUDA_ARCHS:-native}' ./build-llama-libs.sh --backend '${GPU_BACKEND:-cuda}' \
      --src '$W/src' --out '$W/libs' --native ${tools[*]} > build.log 2>&1; echo \$? > build.rc" \
      < /dev/null > /dev/null 2>&1 &
  echo "=== build started in the background (+$(el) s)"
  nvidia-smi -L 2>&1
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1
  echo "nvcc: $(nvcc --version 2>&1 | tail -1)"
  echo "$(gcc --version 2>&1 | head -1); $(cmake --version 2>&1 | head -1); ninja $(ninja --version 2>&1)"
  echo "cpus $(nproc): $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2); $(ldd --version 2>&1 | head -1)"
  echo "=== ldd fcbench (the llama/ggml libraries are expected to be missing until the build is done)"
  ldd ./fcbench 2>&1 | grep -E 'llama|ggml|not found|libc.so'
  # A configure error shows within seconds: wait for it, then return.
  for _ in $(seq 1 40); do
    grep -qE '^-- Build files have been written|CMake Error' build.log 2>/dev/null && break
    [[ -f build.rc ]] && break
    sleep 1
  done
  echo "=== configure (+$(el) s)"
  grep -E 'CMake Error|CUDA Toolkit found|Using CUDA architectures|CUDA host compiler|OpenMP found|Build files have been' build.log | head -20
  [[ -f build.rc ]] && { echo "build ended early: rc $(cat build.rc)"; tail -30 build.log; exit 3; }
  exit 0
fi

[[ "$step" == finish ]] || { echo "step is start or finish"; exit 2; }
LIMIT="${LIMIT:-480}"
DEADLINE=$((T0 + LIMIT))
left() { echo $((DEADLINE - $(date +%s))); }
cd "$W" 2>/dev/null || { echo "finish: $W is gone (the host was released between the steps)"; exit 3; }
mkdir -p "$OUT/gpu" "$OUT/cpu" logs cache/models home
SUM="$OUT/summary.txt"
say() { echo "$*" | tee -a "$SUM"; }

read -r want file < model.sha256
model="$W/cache/models/$file"
if [[ ! -f "$model" ]]; then
  cat model.part.* "$bundle"/model.part.* > "$model" || { say "model join failed"; exit 3; }
fi
got="$(sha256sum "$model" | cut -d' ' -f1)"
[[ "$got" == "$want" ]] || { say "model sha256 mismatch: $got, want $want"; rm -f "$model"; exit 3; }
say "model $file sha256 OK"

last=0
while [[ ! -f build.rc ]]; do
  if (($(left) < 60)); then say "build not done at +$(el) s: $(grep -o '^\[[0-9]*/[0-9]*\]' build.log | tail -1)"; tail -20 build.log >> "$SUM"; exit 4; fi
  if (($(date +%s) - last >= 30)); then last=$(date +%s); say "+$(el) s building $(grep -o '^\[[0-9]*/[0-9]*\]' build.log | tail -1)"; fi
  sleep 2
done
say "build rc $(cat build.rc) at +$(el) s: $(tail -1 build.log)"
cp libs/llama-libs.json "$OUT/" 2>/dev/null
if [[ ! -e libs/libllama.so ]]; then grep -nE 'error|Error' build.log | head -40 >> "$SUM"; exit 5; fi

export LD_LIBRARY_PATH="$W/libs" FCBENCH_CACHE="$W/cache" HOME="$W/home"
fc="$W/fcbench"
# Counts: full by default; QUICK=1 only proves the script runs.
if [[ -n "${QUICK:-}" ]]; then
  RUNQ=(--limit 1); R5=1; R3=1; HREPS=(--reps 3 --rounds 1 --warmup-steps 1); BREPS=(-r 1 -n 4); NTG=4
else
  RUNQ=(); R5=5; R3=3; HREPS=(--reps 60 --rounds 3 --warmup-steps 5); BREPS=(-r 10 -n 32); NTG=32
fi
bench="$W/libs/bin/llama-bench"
bb="$W/libs/bin/llama-batched-bench"

# run NAME EST_S CMD... : skipped when fewer than EST_S seconds are left; stdout to the summary,
# stderr to logs/NAME.err
run() {
  local name=$1 est=$2; shift 2
  local l; l=$(left)
  if ((l < est)); then say "SKIP $name (only ${l}s left)"; return; fi
  say ""; say "=== $name (+$(el) s): $*"
  local s=$(date +%s)
  timeout $((l - 10)) "$@" > "logs/$name.out" 2> "logs/$name.err"
  local rc=$?
  cat "logs/$name.out" >> "$SUM"
  say "rc=$rc wall=$(($(date +%s) - s)) s"
}

run doctor 20 "$fc" doctor
"$fc" doctor --json > "$OUT/doctor.json" 2>/dev/null
# Proof of placement: llama.cpp's own log for one short sweep.
FCBENCH_LLAMA_LOG=1 run proof 20 "$fc" heads --model "$MODEL" --max-heads 2 --reps 5 --rounds 1
grep -E 'using device|offloaded|Flash Attention|CUDA0 model buffer|KV buffer' logs/proof.err | sort | uniq -c | head >> "$SUM"

# The peers first, then fcbench, then the peers again: drift shows as a change between the two.
run bench_a 30 "$bench" -m "$model" -p 0 "${BREPS[@]}" -d 512 -ngl 99 -o json
cp logs/bench_a.out "$OUT/gpu/llama-bench.json"
run batched_a 40 "$bb" -m "$model" -c 8192 -b 2048 -ub 512 -npp 512 -ntg "$NTG" -npl 1,2,3,4,5,6,7,8 -pps -ngl 99 --output-format jsonl
cp logs/batched_a.out "$OUT/gpu/batched.jsonl"
run heads 40 "$fc" heads --model "$MODEL" --context 512 --max-heads 8 "${HREPS[@]}" --out "$OUT/gpu/heads.json"
run run_gpu 60 "$fc" run --model "$MODEL" --repeat "$R5" "${RUNQ[@]}" --quiet --out "$OUT/gpu/run"
run bench_b 30 "$bench" -m "$model" -p 0 "${BREPS[@]}" -d 512 -ngl 99 -o json
cp logs/bench_b.out "$OUT/gpu/llama-bench-after.json" 2>/dev/null
run ratios 5 python3 "$W/peer_ratios.py" "$OUT/gpu" --markdown "$OUT/gpu/ratios.md"

# The same binary and arms on this host's CPU only, for the CPU+GPU table.
run run_cpu 90 "$fc" run --model "$MODEL" --repeat "$R3" "${RUNQ[@]}" --device cpu --quiet --out "$OUT/cpu/run"
run heads_cpu 40 "$fc" heads --model "$MODEL" --device cpu --context 512 --max-heads 8 "${HREPS[@]}" --out "$OUT/cpu/heads.json"
run table 10 "$fc" table "$OUT/cpu/run" "$OUT/gpu/run" --format markdown
cp logs/table.out "$OUT/table.md"

# Extras while time is left: flash attention off on both sides, and the cold regime.
run heads_fa_off 30 "$fc" heads --model "$MODEL" --flash-attn off --context 512 --max-heads 8 "${HREPS[@]}" --out "$OUT/gpu/heads-fa-off.json"
run batched_fa_off 40 "$bb" -m "$model" -c 8192 -b 2048 -ub 512 -npp 512 -ntg "$NTG" -npl 1,2,4,8 -pps -ngl 99 -fa off --output-format jsonl
cp logs/batched_fa_off.out "$OUT/gpu/batched-fa-off.jsonl" 2>/dev/null
run batched_kvu 40 "$bb" -m "$model" -c 8192 -b 2048 -ub 512 -npp 512 -ntg "$NTG" -npl 1,2,4,8 -pps -ngl 99 -kvu --output-format jsonl
cp logs/batched_kvu.out "$OUT/gpu/batched-kvu.jsonl" 2>/dev/null
run run_gpu_cold 40 "$fc" run --model "$MODEL" --regime cold --repeat "$R3" "${RUNQ[@]}" --protocol simpletool,functiongemma --quiet --out "$OUT/gpu/run-cold"

say ""
say "=== GPU at the end (+$(el) s)"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,temperature.gpu --format=csv 2>&1 | tee -a "$SUM"
{ grep -nE 'error|FAILED' build.log | head -40; echo ...; tail -40 build.log; } > logs/build.log
for f in logs/*.err; do [[ $(stat -c %s "$f") -gt 2000000 ]] && truncate -s 2000000 "$f"; done
tar czf "$OUT/logs.tar.gz" logs
say "done at +$(el) s"
