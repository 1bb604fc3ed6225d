#!/usr/bin/env python3
"""Prefill parity: fcbench's llama.cpp context parameters vs llama-cpp-python's defaults.

Times the prefill of one fixed prompt (one llama_decode of all its tokens, logits for the last
token only, KV cache cleared untimed between repetitions) under several llama.cpp context
configurations, through llama-cpp-python's low-level ctypes API, so that the context
parameters are the only thing that differs between the configurations of one engine:

  fcbench          fcbench's LlamaModel::session: n_ctx=C, n_batch=C, n_ubatch=min(512,C),
                   n_seq_max=9, kv_unified=true, flash attention AUTO (-1), model load AUTO
  fc+<change>      fcbench's parameters with exactly one thing changed
  lcp              what llama-cpp-python's Llama(n_ctx=C) sets: n_batch=512, n_ubatch=512,
                   n_seq_max=1 (llama.cpp default), kv_unified=false, flash attention
                   DISABLED, load_mode MMAP; prompt fed in n_batch chunks like Llama.eval
  lcp+fa_auto      the same with flash attention AUTO
  lcp-HL           the high-level path itself: Llama(model, n_ctx=C, n_threads=T,
                   n_threads_batch=T); llm.reset(); llm.eval(tokens)

An "engine" is one build of llama.cpp. The default engine is the llama.cpp that the installed
llama-cpp-python wheel carries. `--engine NAME=LIBDIR` adds a build of another llama.cpp source
(e.g. the one vendored in llama-cpp-sys-2, built with fcbench's flags): llama-cpp-python loads
LIBDIR/libllama.so instead (LLAMA_CPP_LIB_PATH), which works while llama.h's structs match (check
llama_context_params/llama_model_params). Each engine runs in its own worker process; the
coordinator runs every (engine, configuration) once per round, rotating the start of the order
each round (interleaved: A B C D, B C D A, ...), so load from other processes on a shared
machine hits all configurations alike. Reported: median tokens/s, and the median over rounds of
each configuration's tokens/s divided by the reference's tokens/s in the same round (paired).

  python3 prefill_parity.py --model SmolLM2-135M-Instruct.Q4_1.gguf --threads 2 --reps 20 \
      --prompt-tokens 800 [--engine sys2-O2=/path/RelWithDebInfo/bin ...]
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import statistics
import subprocess
import sys
import time

FA = {"auto": -1, "off": 0, "on": 1}
LOAD_AUTO, LOAD_NONE, LOAD_MMAP = -1, 0, 1


def configs(ctx: int) -> dict[str, dict]:
    fc = dict(n_ctx=ctx, n_batch=ctx, n_ubatch=min(512, ctx), n_seq_max=9, kv_unified=True,
              fa="auto", load=LOAD_AUTO, chunk=ctx)
    lcp = dict(n_ctx=ctx, n_batch=min(512, ctx), n_ubatch=min(512, ctx), n_seq_max=1,
               kv_unified=False, fa="off", load=LOAD_MMAP, chunk=min(512, ctx))
    big = max(4096, 2 * ctx)
    out = {
        "fcbench": fc,
        "fc+fa_off": {**fc, "fa": "off"},
        "fc+fa_on": {**fc, "fa": "on"},
        "fc+seq1": {**fc, "n_seq_max": 1},
        "fc+seq1_nonunified": {**fc, "n_seq_max": 1, "kv_unified": False},
        "fc+nbatch512": {**fc, "n_batch": min(512, ctx), "chunk": min(512, ctx)},
        "fc+ubatch=nbatch": {**fc, "n_ubatch": ctx},
        f"fc+ctx{big}": {**fc, "n_ctx": big, "n_batch": big, "chunk": big},
        "fc+load_mmap": {**fc, "load": LOAD_MMAP},
        "fc+load_none": {**fc, "load": LOAD_NONE},
        "lcp": lcp,
        "lcp+fa_auto": {**lcp, "fa": "auto"},
        "lcp-HL": {"highlevel": True, "n_ctx": ctx},
    }
    return out


# ----------------------------------------------------------------------------- worker
def worker(args) -> None:
    import llama_cpp as L

    logs: list[str] = []

    @L.llama_log_callback
    def on_log(level, text, user):  # keep llama.cpp quiet, but keep its words
        logs.append(text.decode("utf-8", "replace"))

    L.llama_log_set(on_log, ctypes.c_void_p(0))
    L.llama_backend_init()
    out = sys.stdout
    sys.stdout = sys.stderr  # nothing but protocol lines on the pipe

    def reply(obj):
        out.write(json.dumps(obj) + "\n")
        out.flush()

    models: dict[int, object] = {}

    def model(load_mode: int):
        if load_mode not in models:
            mp = L.llama_model_default_params()
            if load_mode != LOAD_AUTO:
                mp.load_mode = load_mode
            m = L.llama_model_load_from_file(args.model.encode(), mp)
            if not m:
                raise SystemExit(f"cannot load {args.model}")
            models[load_mode] = m
        return models[load_mode]

    vocab = L.llama_model_get_vocab(model(LOAD_AUTO))
    cfgs = configs(args.ctx)
    ctxs: dict[str, tuple] = {}
    tokens: list[int] = []
    batch = None
    hl = None

    for line in sys.stdin:
        cmd = json.loads(line)
        op = cmd["op"]
        if op == "info":
            maps = sorted({l.split()[-1] for l in open("/proc/self/maps")
                           if ("libggml" in l or "libllama" in l) and l.split()[-1].startswith("/")})
            reply({"maps": maps, "system_info": L.llama_print_system_info().decode(),
                   "lib": getattr(getattr(L.llama_cpp, "_lib", None), "_name", "?"),
                   "llama_cpp_python": L.__version__ if hasattr(L, "__version__") else "?"})
        elif op == "tokenize":
            text = cmd["text"].encode()
            buf = (L.llama_token * (len(text) + 16))()
            n = L.llama_tokenize(vocab, text, len(text), buf, len(buf), True, True)
            reply({"tokens": list(buf[:n])})
        elif op == "setup":
            tokens = cmd["tokens"]
            n = len(tokens)
            batch = L.llama_batch_init(max(n, 1), 0, 1)
            for name in cmd["configs"]:
                c = cfgs[name]
                if c.get("highlevel"):
                    try:
                        hl = L.Llama(model_path=args.model, n_ctx=c["n_ctx"], n_threads=args.threads,
                                     n_threads_batch=args.threads, verbose=False)
                    except Exception as e:  # e.g. a symbol this build lacks
                        reply({"error": f"{name}: {e}"})
                        return
                    continue
                p = L.llama_context_default_params()
                p.n_ctx, p.n_batch, p.n_ubatch = c["n_ctx"], c["n_batch"], c["n_ubatch"]
                p.n_seq_max, p.kv_unified = c["n_seq_max"], c["kv_unified"]
                p.n_threads = p.n_threads_batch = args.threads
                p.flash_attn_type = FA[c["fa"]]
                mark = len(logs)
                ctx = L.llama_init_from_model(model(c["load"]), p)
                if not ctx:
                    reply({"error": f"{name}: llama_init_from_model failed: {''.join(logs[mark:])[-400:]}"})
                    return
                said = "".join(logs[mark:])
                fa_lines = sorted({l.strip() for l in said.splitlines()
                                   if "flash_attn " in l or "Flash Attention" in l})
                ctxs[name] = (ctx, c, fa_lines, (L.llama_n_ctx(ctx), L.llama_n_batch(ctx),
                                                 L.llama_n_ubatch(ctx), L.llama_n_seq_max(ctx)))
            reply({"ok": True, "contexts": {k: {"flash_log": v[2], "ctx_batch_ubatch_seq": v[3]}
                                            for k, v in ctxs.items()}})
        elif op == "run":
            name = cmd["config"]
            if name == "lcp-HL":
                hl.reset()
                hl._ctx.kv_cache_clear()
                t0 = time.perf_counter()
                hl.eval(tokens)
                dt = time.perf_counter() - t0
                reply({"s": dt})
                continue
            ctx, c, _, _ = ctxs[name]
            L.llama_memory_clear(L.llama_get_memory(ctx), True)
            n = len(tokens)
            step = c["chunk"]
            dt = 0.0
            for i in range(0, n, step):
                part = tokens[i:i + step]
                batch.n_tokens = len(part)
                for j, t in enumerate(part):
                    batch.token[j] = t
                    batch.pos[j] = i + j
                    batch.n_seq_id[j] = 1
                    batch.seq_id[j][0] = 0
                    batch.logits[j] = 1 if i + j == n - 1 else 0
                t0 = time.perf_counter()
                rc = L.llama_decode(ctx, batch)
                L.llama_synchronize(ctx)
                dt += time.perf_counter() - t0
                if rc != 0:
                    reply({"error": f"{name}: llama_decode returned {rc}"})
                    return
            reply({"s": dt})
        elif op == "quit":
            return


# ----------------------------------------------------------------------------- coordinator
PROMPT_HEAD = (
    "<|im_start|>system\nYou are a helpful assistant with access to the following functions. "
    "Use them if required. Reply with a JSON object {\"name\": ..., \"arguments\": {...}}.\n"
    "<tools>\n"
)
TOOL = (
    '{{"type": "function", "function": {{"name": "{name}", "description": "{desc}", '
    '"parameters": {{"type": "object", "properties": {{"{a}": {{"type": "string", '
    '"description": "The {a} to use for {name}"}}, "{b}": {{"type": "integer", "description": '
    '"How many {b} (1-100)"}}, "units": {{"type": "string", "enum": ["metric", "imperial"]}}}}, '
    '"required": ["{a}"]}}}}}}\n'
)
TOOLS = [
    ("get_weather", "Get the current weather and forecast for a city", "city", "days"),
    ("search_flights", "Search direct and connecting flights between two airports", "route", "passengers"),
    ("book_restaurant", "Reserve a table at a restaurant for a given time", "restaurant", "guests"),
    ("convert_currency", "Convert an amount of money between two currencies", "pair", "amount"),
    ("send_email", "Send an e-mail message to one or more recipients", "recipient", "priority"),
    ("create_calendar_event", "Create an event in the user's calendar", "title", "duration_minutes"),
    ("translate_text", "Translate a piece of text into another language", "text", "max_length"),
    ("get_stock_price", "Look up the latest trading price of a stock ticker", "ticker", "history_days"),
    ("set_reminder", "Set a reminder that fires at the given time", "message", "minutes_from_now"),
    ("find_recipes", "Find recipes that use the given ingredients", "ingredients", "max_results"),
]
PROMPT_TAIL = (
    "</tools><|im_end|>\n<|im_start|>user\nWhat's the weather going to be like in Lisbon over "
    "the next three days, in metric units please?<|im_end|>\n<|im_start|>assistant\n"
)


class Worker:
    def __init__(self, name: str, libdir: str | None, args):
        env = dict(os.environ)
        if libdir:
            env["LLAMA_CPP_LIB_PATH"] = libdir
            env["LD_LIBRARY_PATH"] = libdir + os.pathsep + env.get("LD_LIBRARY_PATH", "")
        self.name, self.libdir = name, libdir
        self.p = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--worker", "--model", args.model,
             "--threads", str(args.threads), "--ctx", str(args.ctx)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)

    def ask(self, **cmd):
        self.p.stdin.write(json.dumps(cmd) + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise SystemExit(f"engine {self.name}: worker died (see stderr above)")
        r = json.loads(line)
        if "error" in r:
            raise SystemExit(f"engine {self.name}: {r['error']}")
        return r

    def close(self):
        try:
            self.p.stdin.write(json.dumps({"op": "quit"}) + "\n")
            self.p.stdin.flush()
        except BrokenPipeError:
            pass
        self.p.wait(timeout=60)


def loadavg() -> str:
    try:
        return open("/proc/loadavg").read().split(" ", 3)[:3].__str__()
    except OSError:
        return "?"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=20, help="timed rounds (after --warmup rounds)")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--prompt-tokens", type=int, default=800)
    ap.add_argument("--ctx", type=int, default=1024,
                    help="n_ctx for fcbench's configuration (fcbench: max(context needed, 512); "
                         "`fcbench heads` uses at least 1024)")
    ap.add_argument("--engine", action="append", default=[], metavar="NAME=LIBDIR",
                    help="another llama.cpp build (dir holding libllama.so); repeatable")
    ap.add_argument("--no-default-engine", action="store_true",
                    help="leave out the llama.cpp that the llama-cpp-python wheel carries")
    ap.add_argument("--configs", default="all", help="comma-separated names (see the docstring)")
    ap.add_argument("--reference", default=None,
                    help="ENGINE:CONFIG that ratios are against (default: lcp:lcp-HL)")
    ap.add_argument("--json", default=None, help="also write every sample here")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args)
    if args.prompt_tokens > args.ctx:
        raise SystemExit("--prompt-tokens must fit in --ctx")

    all_cfgs = configs(args.ctx)
    names = list(all_cfgs) if args.configs == "all" else args.configs.split(",")
    for n in names:
        if n not in all_cfgs:
            raise SystemExit(f"unknown configuration {n}; known: {', '.join(all_cfgs)}")

    engines = [] if args.no_default_engine else [("lcp", None)]
    for e in args.engine:
        k, _, v = e.partition("=")
        engines.append((k, os.path.abspath(v)))
    print(f"# load average before: {loadavg()}", flush=True)
    workers = [Worker(k, v, args) for k, v in engines]
    try:
        for w in workers:
            info = w.ask(op="info")
            print(f"# engine {w.name}: lib={info['lib']}\n#   {info['system_info'].strip()}", flush=True)
            print(f"#   loaded: {' '.join(os.path.realpath(m) for m in info['maps'])}", flush=True)
        text = PROMPT_HEAD + "".join(TOOL.format(name=n, desc=d, a=a, b=b) for n, d, a, b in TOOLS)
        toks = workers[0].ask(op="tokenize", text=text + PROMPT_TAIL)["tokens"]
        while len(toks) < args.prompt_tokens:  # repeat the tool list to reach the length
            toks = toks + toks
        toks = toks[:args.prompt_tokens]
        print(f"# prompt: {len(toks)} tokens; threads={args.threads}; fcbench n_ctx={args.ctx}", flush=True)
        for w in workers:
            r = w.ask(op="setup", tokens=toks, configs=names)
            for k, v in r["contexts"].items():
                print(f"#   {w.name}/{k}: n_ctx,n_batch,n_ubatch,n_seq_max={v['ctx_batch_ubatch_seq']} "
                      f"{' | '.join(v['flash_log'])}", flush=True)
        jobs = [(w, n) for w in workers for n in names]
        samples: dict[str, list[float]] = {f"{w.name}:{n}": [] for w, n in jobs}
        rounds: list[dict[str, float]] = []
        t_start = time.time()
        for r in range(args.warmup + args.reps):
            k = r % len(jobs)
            order = jobs[k:] + jobs[:k]
            this = {}
            for w, n in order:
                s = w.ask(op="run", config=n)["s"]
                this[f"{w.name}:{n}"] = len(toks) / s
            if r >= args.warmup:
                rounds.append(this)
                for key, v in this.items():
                    samples[key].append(v)
            print(f"# round {r + 1}/{args.warmup + args.reps}{' (warm-up)' if r < args.warmup else ''} "
                  f"load {loadavg()}", file=sys.stderr, flush=True)
        elapsed = time.time() - t_start
    finally:
        for w in workers:
            try:
                w.close()
            except Exception:
                pass

    ref = args.reference or (f"{engines[0][0]}:lcp-HL" if "lcp-HL" in names else f"{engines[0][0]}:{names[0]}")
    refmed = statistics.median(samples[ref])
    print(f"# {args.reps} interleaved rounds in {elapsed:.0f} s; load average after: {loadavg()}")
    print(f"# ratio = median over rounds of (config tok/s / {ref} tok/s in the same round)")
    print(f"{'engine:config':34s} {'median tok/s':>12s} {'p25':>8s} {'p75':>8s} {'ratio':>7s} {'ratio(med/med)':>14s}")
    for key, v in samples.items():
        q = statistics.quantiles(v, n=4) if len(v) >= 2 else [v[0]] * 3
        paired = statistics.median(rd[key] / rd[ref] for rd in rounds)
        print(f"{key:34s} {statistics.median(v):12.1f} {q[0]:8.1f} {q[2]:8.1f} {paired:7.3f} "
              f"{statistics.median(v) / refmed:14.3f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "reference": ref, "samples": samples, "rounds": rounds}, f, indent=1)


if __name__ == "__main__":
    main()
