#!/usr/bin/env bash
# End-to-end check of `fcbench tui` on a real model, driven through tmux:
# the dashboard appears, its numbers update, `q` stops the run cleanly and the run directory is
# complete (manifest.json, calls.jsonl, summary.json). Captured screens are left in $WORK.
#
#   harness/tui/scripts/e2e_tmux.sh            # needs tmux and target/release/fcbench
#   MODEL=smollm2 COLS=80 ROWS=24 harness/tui/scripts/e2e_tmux.sh
set -euo pipefail
BIN=${BIN:-$PWD/target/release/fcbench}
MODEL=${MODEL:-gemma3-270m}
COLS=${COLS:-160}
ROWS=${ROWS:-48}
TIMEOUT=${TIMEOUT:-600}
WORK=${WORK:-$(mktemp -d)}
RUN="$WORK/run"
SOCK="fcbench-e2e-$$"
T="tmux -L $SOCK"
cleanup() { $T kill-server 2>/dev/null || true; }
trap cleanup EXIT

screen() { $T capture-pane -p -t e2e; }
calls_done() { screen | grep -o 'calls [0-9]*/' | head -1 | tr -dc 0-9; }
wait_for() { # pattern, seconds
  local deadline=$((SECONDS + $2))
  until screen | grep -q -- "$1"; do
    if ((SECONDS > deadline)); then
      echo "FAIL: no \`$1\` on screen after $2 s"; screen; exit 1
    fi
    sleep 0.5
  done
}

$T new-session -d -s e2e -x "$COLS" -y "$ROWS" \
  "$BIN tui --model $MODEL --limit 4 --repeat 1 --protocol simpletool,functiongemma --out $RUN; echo FCBENCH_EXIT=\$?; sleep 3600"

wait_for 'RUNNING' "$TIMEOUT"
echo "dashboard up"
screen >"$WORK/screen-start.txt"
wait_for 'calls 1/' "$TIMEOUT"
first=$(calls_done)
wait_for 'calls [2-9]/' "$TIMEOUT"
second=$(calls_done)
screen >"$WORK/screen-running.txt"
echo "numbers update: calls $first -> $second"
((second > first)) || { echo "FAIL: calls did not advance"; exit 1; }

# `p` holds the run between calls: the count stays put while paused, and moves after `p` again.
$T send-keys -t e2e p
wait_for 'PAUSED' 10
sleep "${SETTLE:-20}" # the call in flight finishes first
held=$(calls_done)
sleep 10
[[ $(calls_done) == "$held" ]] || { echo "FAIL: calls advanced while paused"; screen; exit 1; }
screen >"$WORK/screen-paused.txt"
$T send-keys -t e2e p
wait_for "calls $((held + 1))/" "$TIMEOUT"
echo "pause holds at $held calls, resume continues"

$T send-keys -t e2e q
wait_for 'FCBENCH_EXIT=' "$TIMEOUT"
screen >"$WORK/screen-after.txt"
code=$(screen | grep -o 'FCBENCH_EXIT=[0-9]*' | tr -dc 0-9)
echo "exit code $code (130 = stopped on request, results written)"
[[ $code == 0 || $code == 130 ]] || { echo "FAIL: exit code $code"; cat "$WORK/screen-after.txt"; exit 1; }
# The terminal is back to normal: the results table was printed after the dashboard closed.
grep -q 'run directory:' "$WORK/screen-after.txt" || { echo "FAIL: no results table after exit"; exit 1; }

for f in manifest.json calls.jsonl summary.json; do
  [[ -s $RUN/$f ]] || { echo "FAIL: $RUN/$f missing or empty"; exit 1; }
done
lines=$(wc -l <"$RUN/calls.jsonl")
python3 - "$RUN" "$lines" <<'PY'
import json, sys
run, lines = sys.argv[1], int(sys.argv[2])
json.load(open(f"{run}/manifest.json"))
calls = [json.loads(l) for l in open(f"{run}/calls.jsonl")]
s = json.load(open(f"{run}/summary.json"))
n = sum(a["calls_ok"] + a["calls_failed"] + a["cases_filtered"] for a in s["arms"])
assert n == len(calls) == lines, (n, len(calls), lines)
print(f"run directory complete: {len(calls)} calls recorded, summary counts {n}, "
      f"complete={s['complete']} interrupted={s.get('interrupted')!r}")
PY
echo "PASS (screens in $WORK)"
