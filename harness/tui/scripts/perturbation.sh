#!/usr/bin/env bash
# Does watching disturb the measurement? Runs the same arms headless (`fcbench run`) and under
# the dashboard (`fcbench tui --exit-when-done`, in a detached tmux terminal), interleaved in
# ABBA order so slow drift of the machine cancels, then reports each arm's P50 e2e latency (as
# each run's summary.json states it) and the ratio TUI / headless of their medians.
#
#   harness/tui/scripts/perturbation.sh
#   ROUNDS=4 ARGS="--limit 3 --repeat 2 --protocol simpletool,functiongemma" harness/tui/scripts/perturbation.sh
set -euo pipefail
BIN=${BIN:-$PWD/target/release/fcbench}
ROUNDS=${ROUNDS:-4}
ARGS=${ARGS:---limit 3 --repeat 2 --protocol simpletool,functiongemma}
WORK=${WORK:-$(mktemp -d)}
SOCK="fcbench-perturb-$$"
trap 'tmux -L $SOCK kill-server 2>/dev/null || true' EXIT

headless() {
  # shellcheck disable=SC2086
  "$BIN" run $ARGS -q --out "$WORK/headless-$1" >/dev/null
}
tui() {
  tmux -L "$SOCK" new-session -d -s "tui-$1" -x 160 -y 48 \
    "$BIN tui $ARGS --exit-when-done --out $WORK/tui-$1; echo \$? >$WORK/tui-$1.exit"
  until [[ -f $WORK/tui-$1.exit ]]; do sleep 0.5; done
  [[ $(cat "$WORK/tui-$1.exit") == 0 ]] || { echo "tui run $1 failed"; exit 1; }
}

for i in $(seq 1 "$ROUNDS"); do
  if ((i % 2)); then headless "$i"; tui "$i"; else tui "$i"; headless "$i"; fi
  echo "round $i/$ROUNDS done"
done

python3 - "$WORK" "$ROUNDS" <<'PY'
import json, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
def p50s(kind):
    out = {}
    for i in range(1, rounds + 1):
        for a in json.load(open(f"{work}/{kind}-{i}/summary.json"))["arms"]:
            out.setdefault(a["arm"], []).append(a["e2e"]["p50"])
    return out
h, t = p50s("headless"), p50s("tui")
print(f"{'arm':<34} {'headless P50 ms (runs)':<34} {'tui P50 ms (runs)':<34} ratio  paired")
for arm in h:
    rh, rt = statistics.median(h[arm]), statistics.median(t[arm])
    paired = statistics.geometric_mean([b / a for a, b in zip(h[arm], t[arm])])
    fmt = lambda v: " ".join(f"{x:.1f}" for x in v)
    print(f"{arm:<34} {fmt(h[arm]):<34} {fmt(t[arm]):<34} {rt / rh:.3f}  {paired:.3f}")
print("ratio = median of the TUI runs' P50 / median of the headless runs' P50;")
print(f"paired = geometric mean over rounds of TUI P50 / headless P50; runs in {work}")
PY
