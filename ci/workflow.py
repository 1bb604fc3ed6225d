#!/usr/bin/env python3
"""Run a GitHub Actions workflow's steps, in order, on this checkout: the proof that the example
workflow users copy (ci/github-actions.yml) works as written. `.ci/run` runs it on every CI
build, in a fresh clone.

Each `run:` step runs as GitHub runs it (`bash --noprofile --norc -eo pipefail`), with its `env:`,
CI=true, GITHUB_OUTPUT, GITHUB_ENV (exported to later steps) and GITHUB_STEP_SUMMARY files, and `${{ steps.<id>.outputs.<name> }}`
filled in from earlier steps. The event is a push, so pull-request-only steps are skipped.
`if: always()` runs after a failure; other steps do not. A `uses:` step has a local
equivalent or is named as skipped (caches: nothing to restore; the pull-request comment: not a
pull request); an action this script does not know fails the run, so a new step cannot go
unproven. `sudo` runs the command as is when already root without sudo.

Usage: ci/workflow.py ci/github-actions.yml [--job bench-gate]
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import yaml  # PyYAML: .ci/run installs it when missing

EVENT = "push"


def known_action(uses, with_, outputs_dir):
    """What a `uses:` step amounts to here: (ran, note). Raises on an unknown action."""
    name = uses.split("@")[0]
    if name == "actions/checkout":
        return True, "this checkout"
    if name == "dtolnay/rust-toolchain":
        ver = subprocess.run(["cargo", "--version"], capture_output=True, text=True, check=True)
        return True, ver.stdout.strip()
    if name in ("Swatinem/rust-cache", "actions/cache"):
        return False, "cache: nothing to restore on a fresh machine"
    if name == "actions/upload-artifact":
        missing = [p for p in str(with_.get("path", "")).split() if not os.path.exists(p)]
        if missing:
            raise RuntimeError(f"artifact paths missing: {', '.join(missing)}")
        return True, f"artifacts present: {' '.join(str(with_.get('path')).split())}"
    if name == "marocchino/sticky-pull-request-comment":
        return False, "pull-request comment (not a pull request)"
    raise RuntimeError(f"unknown action `{uses}`: give it a local equivalent in {__file__}")


def should_run(cond, failed):
    """The few `if:` forms the workflow uses: always(), the event name, and their conjunction."""
    if cond is None:
        return not failed
    cond = str(cond)
    for event in re.findall(r"github\.event_name\s*==\s*'([^']+)'", cond):
        if event != EVENT:
            return False
    if "always()" in cond:
        return True
    rest = re.sub(r"github\.event_name\s*==\s*'[^']+'|&&|\s", "", cond)
    if rest:
        raise RuntimeError(f"unsupported `if:` expression: {cond}")
    return not failed


def fill(text, outputs):
    def one(m):
        expr = m.group(1).strip()
        mm = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr)
        if not mm:
            raise RuntimeError(f"unsupported expression ${{{{ {expr} }}}}")
        return outputs.get(mm.group(1), {}).get(mm.group(2), "")
    return re.sub(r"\$\{\{(.*?)\}\}", one, text)


def read_outputs(path):
    out = {}
    if os.path.exists(path):
        for line in open(path):
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                out[k] = v
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("workflow")
    ap.add_argument("--job", help="job id (default: the only job)")
    a = ap.parse_args()
    wf = yaml.safe_load(open(a.workflow))
    jobs = wf["jobs"]
    job = jobs[a.job] if a.job else next(iter(jobs.values()))
    work = tempfile.mkdtemp(prefix="workflow-")
    env = dict(os.environ, CI="true", GITHUB_EVENT_NAME=EVENT,
               GITHUB_STEP_SUMMARY=os.path.join(work, "summary.md"))
    # Root without sudo (a container): `sudo x` runs x.
    if shutil.which("sudo") is None and os.geteuid() == 0:
        shim = os.path.join(work, "bin")
        os.makedirs(shim)
        with open(os.path.join(shim, "sudo"), "w") as f:
            f.write('#!/bin/sh\nexec "$@"\n')
        os.chmod(os.path.join(shim, "sudo"), 0o755)
        env["PATH"] = shim + os.pathsep + env["PATH"]
    outputs, failed, log = {}, False, []
    for i, step in enumerate(job["steps"], 1):
        name = step.get("name") or step.get("uses") or f"step {i}"
        if not should_run(step.get("if"), failed):
            log.append((name, "skipped", 0.0))
            print(f"── {i}. {name}: skipped (if: {step.get('if', 'an earlier step failed')})", flush=True)
            continue
        t = time.time()
        print(f"── {i}. {name}", flush=True)
        try:
            if "uses" in step:
                ran, note = known_action(step["uses"], step.get("with", {}) or {}, work)
                print(f"   {note}")
                status = "ok" if ran else "skipped"
            else:
                out_file = os.path.join(work, f"output-{i}")
                env_file = os.path.join(work, f"env-{i}")
                open(out_file, "w").close()
                open(env_file, "w").close()
                step_env = dict(env, GITHUB_OUTPUT=out_file, GITHUB_ENV=env_file)
                step_env.update({k: str(v) for k, v in (step.get("env") or {}).items()})
                script = fill(step["run"], outputs)
                rc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                                    env=step_env).returncode
                if "id" in step:
                    outputs[step["id"]] = read_outputs(out_file)
                # Variables a step exports for the steps after it.
                env.update(read_outputs(env_file))
                status = "ok" if rc == 0 else f"failed (exit {rc})"
                failed |= rc != 0
        except Exception as e:  # an unknown action or expression is a failure of the proof
            status, failed = f"failed ({e})", True
        log.append((name, status, time.time() - t))
        print(f"   {status} in {time.time() - t:.0f} s", flush=True)
    print("\nworkflow steps, in order:")
    for name, status, secs in log:
        print(f"  {status:>10}  {secs:6.0f} s  {name}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
