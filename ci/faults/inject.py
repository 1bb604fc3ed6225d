#!/usr/bin/env python3
"""Fault injection against the real binary and the real default model (issue 14).

Runs `fcbench run` on SmolLM2 and breaks it the ways a hostile but honest user does: a full
disk (a small tmpfs), SIGINT and SIGKILL at random moments (during model load, warm-up, the
first case, later), a second Ctrl-C, and files truncated or corrupted afterwards. Then asserts:

* no panic (exit 101, "panicked") and no crash signal we did not send;
* exit codes as documented: run 0 / 2 (error) / 130 (interrupted); SIGKILL is -9; readers
  (report, table) 0, or 2 on a file they cannot read; gate 0 / 1 / 2;
* every line of every calls.jsonl parses, except a last line cut short by SIGKILL, which
  every reader must then report as a warning;
* every run directory that exists is readable by `report`, `table` and `gate`, and a corrupted
  one is refused with exit 2 and a message naming the file (and line), never a panic.

Usage: ci/faults/inject.py [--bin target/release/fcbench] [--seed N]
Budget: well under three minutes on a 2-core machine. Standard library only.
"""

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

def run_args(limit=1):
    return ["run", "--model", "smollm2", "--limit", str(limit), "--repeat", "2", "--warmup", "1",
            "--protocol", "simpletool,json", "-q"]


RUN_ARGS = run_args()
failures = []


def check(ok, what):
    print(("  ok    " if ok else "  FAIL  ") + what, flush=True)
    if not ok:
        failures.append(what)


def no_panic(name, proc_rc, stderr):
    check(proc_rc != 101 and "panicked" not in stderr,
          f"{name}: no panic (exit {proc_rc})" + ("" if proc_rc != 101 else f": {stderr[-400:]}"))


def run(fcbench, args, timeout=120):
    p = subprocess.run([fcbench, *args], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def calls_lines(d):
    """(whole lines that parse, whether the last line was cut short, bad middle lines)."""
    path = os.path.join(d, "calls.jsonl")
    if not os.path.exists(path):
        return 0, False, []
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    tail = lines.pop()  # after the last newline: empty unless cut short
    bad = []
    for i, line in enumerate(lines, 1):
        try:
            json.loads(line)
        except ValueError:
            bad.append(i)
    return len(lines), bool(tail), bad


def readers(fcbench, name, d, expect_cut=False):
    """report, table and gate all read `d`; a cut-short last line is warned by each."""
    html = os.path.join(tempfile.mkdtemp(), "r.html")
    for args, ok_codes in [
        (["report", d, "--out", html], {0}),
        (["table", d], {0}),
        (["gate", "--candidate", d, "--baseline", d], {0, 1, 2}),
    ]:
        rc, out, err = run(fcbench, args)
        no_panic(f"{name}: {args[0]}", rc, err)
        last = err.strip().splitlines()[-1:] or [""]
        check(rc in ok_codes, f"{name}: {args[0]} exits {sorted(ok_codes)} (got {rc}: {last[0][:200]})")
        if expect_cut:
            said = "cut short" in err or "cut short" in out
            check(said, f"{name}: {args[0]} warns about the cut-short last line")


def interrupted_runs(fcbench, root, rng, sig, count, load_s):
    for k in range(count):
        name = f"{signal.Signals(sig).name} #{k + 1}"
        d = os.path.join(root, f"{signal.Signals(sig).name.lower()}-{k}")
        # From during model load to well into the cases.
        delay = rng.uniform(0.0, load_s * 4)
        p = subprocess.Popen([fcbench, *RUN_ARGS, "--out", d], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        p.send_signal(sig)
        out, err = p.communicate(timeout=120)
        rc = p.returncode
        print(f"{name}: signal after {delay:.2f} s, exit {rc}")
        no_panic(name, rc, err)
        if sig == signal.SIGINT:
            check(rc in (0, 130, 2) and (rc != 2 or "error:" in err),
                  f"{name}: exits 130 (or 0 if it had finished; got {rc}: {err.strip()[-200:]})")
        else:
            check(rc in (0, -signal.SIGKILL), f"{name}: killed (-9) or finished (got {rc})")
        if not os.path.isdir(d):
            continue  # stopped before the run directory existed
        n, cut, bad = calls_lines(d)
        check(not bad, f"{name}: every whole line of calls.jsonl parses (bad: {bad})")
        if sig == signal.SIGINT:
            check(not cut, f"{name}: no cut-short line after Ctrl-C")
        if os.path.exists(os.path.join(d, "manifest.json")):
            readers(fcbench, name, d, expect_cut=cut)


def double_ctrl_c(fcbench, root, tries):
    for k in range(tries):
        d = os.path.join(root, f"twice-{k}")
        p = subprocess.Popen([fcbench, *RUN_ARGS, "--out", d], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        while time.time() < deadline and not (
                os.path.exists(os.path.join(d, "calls.jsonl"))
                and os.path.getsize(os.path.join(d, "calls.jsonl")) > 0):
            time.sleep(0.02)
        p.send_signal(signal.SIGINT)
        time.sleep(0.3)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=60)
        check(p.returncode == 130, f"second Ctrl-C #{k + 1}: exit 130 (got {p.returncode})")
        no_panic(f"second Ctrl-C #{k + 1}", p.returncode, err)
        _, cut, bad = calls_lines(d)
        check(not bad and not cut, f"second Ctrl-C #{k + 1}: only whole lines")


def mount_tmpfs(path, size):
    """A small tmpfs at `path`; None when this machine does not allow it."""
    os.makedirs(path, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", path],
                       capture_output=True, text=True)
    return None if r.returncode else path


def full_disk(fcbench, root):
    mnt = os.path.join(root, "tmpfs")
    if mount_tmpfs(mnt, "24k") is None:
        msg = "full disk: cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)"
        if os.environ.get("CI") == "true":
            check(False, msg)
        else:
            print("SKIP " + msg)
        return
    try:
        d = os.path.join(mnt, "run")
        rc, out, err = run(fcbench, [*run_args(limit=20), "--out", d])
        print(f"full disk: exit {rc}: {err.strip()[-300:]}")
        no_panic("full disk", rc, err)
        check(rc == 2, f"full disk: exit 2 (got {rc})")
        check("could not write" in err and "No space left on device" in err,
              "full disk: the message names the file and the cause")
        n, cut, bad = calls_lines(d)
        check(not cut and not bad, f"full disk: calls.jsonl holds only whole lines ({n})")
        if os.path.exists(os.path.join(d, "summary.json")):
            with open(os.path.join(d, "summary.json")) as f:
                json.load(f)
            check(True, "full disk: summary.json is whole")
        # Read it back from a disk with room.
        check(os.path.exists(os.path.join(d, "manifest.json")), "full disk: the run directory was written")
        if os.path.isdir(d):
            copy = os.path.join(root, "full-disk-copy")
            shutil.copytree(d, copy)
            readers(fcbench, "full disk", copy)
    finally:
        subprocess.run(["umount", mnt])


def corrupted_copies(fcbench, root, good, rng):
    """Files damaged after the run: readers warn (cut last line) or refuse with exit 2."""
    calls = os.path.join(good, "calls.jsonl")
    data = open(calls, "rb").read()
    # 1. The last line cut at a random byte: read with a warning.
    d = os.path.join(root, "cut-last")
    shutil.copytree(good, d)
    last_start = data.rstrip(b"\n").rfind(b"\n") + 1
    cut_at = rng.randrange(last_start + 1, len(data) - 1)
    open(os.path.join(d, "calls.jsonl"), "wb").write(data[:cut_at])
    readers(fcbench, "cut last line", d, expect_cut=True)
    # 2. A damaged line in the middle, 3. half a summary.json, 4. half a manifest.json, and
    # 5. a binary calls.jsonl: refused, exit 2, naming the file.
    lines = data.split(b"\n")
    damaged = b"\n".join(lines[:1] + [lines[1][: len(lines[1]) // 2]] + lines[2:])
    for name, fname, content, needle in [
        ("damaged middle line", "calls.jsonl", damaged, "calls.jsonl:2:"),
        ("half a summary", "summary.json", None, "summary.json"),
        ("half a manifest", "manifest.json", None, "manifest.json"),
        ("binary calls", "calls.jsonl", bytes(rng.randrange(256) for _ in range(4096)), "calls.jsonl"),
    ]:
        d = os.path.join(root, name.replace(" ", "-"))
        shutil.copytree(good, d)
        path = os.path.join(d, fname)
        if content is None:
            whole = open(path, "rb").read()
            content = whole[: len(whole) // 2]
        open(path, "wb").write(content)
        for args in (["table", d], ["report", d, "--out", os.path.join(d, "r.html")],
                     ["gate", "--candidate", d, "--baseline", good]):
            rc, out, err = run(fcbench, args)
            no_panic(f"{name}: {args[0]}", rc, err)
            check(rc == 2 and needle in err,
                  f"{name}: {args[0]} refuses with exit 2 naming {needle} (got {rc}: {err.strip()[-200:]})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default="target/release/fcbench")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("FAULTS_SEED", time.time_ns() % 100000)))
    a = ap.parse_args()
    fcbench = os.path.abspath(a.bin)
    rng = random.Random(a.seed)
    print(f"fault injection: seed {a.seed} (FAULTS_SEED={a.seed} repeats this run)")
    started = time.time()
    root = tempfile.mkdtemp(prefix="fcbench-faults-")
    try:
        good = os.path.join(root, "good")
        t = time.time()
        rc, out, err = run(fcbench, [*RUN_ARGS, "--out", good])
        whole_s = time.time() - t
        check(rc == 0, f"an undisturbed run exits 0 (got {rc}: {err.strip()[-300:]})")
        if rc != 0:
            raise SystemExit(1)
        t = time.time()
        readers(fcbench, "undisturbed", good)
        print(f"undisturbed run: {whole_s:.1f} s; report, table and gate on it: {time.time() - t:.1f} s")
        # Signals land anywhere from model load to the last case: spread them over the
        # undisturbed run's own duration.
        interrupted_runs(fcbench, root, rng, signal.SIGINT, 4, whole_s / 4)
        interrupted_runs(fcbench, root, rng, signal.SIGKILL, 4, whole_s / 4)
        double_ctrl_c(fcbench, root, 2)
        full_disk(fcbench, root)
        corrupted_copies(fcbench, root, good, rng)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"fault injection: {len(failures)} failure(s) in {time.time() - started:.0f} s (seed {a.seed})")
    for f in failures:
        print("  " + f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
