#!/usr/bin/env python3
"""SimpleTool's server contract, served with a scripted engine: what fcbench's HTTP client is
tested against, and what fcbench serve's answers are validated with.

Provenance: the request/response models and the request handling below restate the public
contract of SimpleTool's reference server, `rt_server.py` in github.com/HaxxorCialtion/SimpleTool
(Apache-2.0; read at commit 8d4078128d67c8103c2897c3c44210af97453f37): pydantic models
`FCRequest`/`FCResponse`, `GET /health` with `status` and `loaded`, CORS open to every origin,
history as strings (the last 6 joined with ", "), argument heads named by the tools'
`function.parameters.properties` and typed (digits -> int, decimals -> float, else lower-cased).
Only the model is replaced: a scripted engine answers every head, so that the test needs no GPU
and no vLLM. Nothing here is fcbench's reading of the API; if the reference changes, change this
file from the reference.

  serve    --record FILE [--host H] [--port P]   serve on a socket bound here; prints
                                                  `listening on http://H:P` then serves
  validate FILE                                  every line an answer (JSON) that must
                                                  validate as FCResponse, all fields present
"""

import argparse
import json
import socket
import sys
import time
from typing import Any, Dict, List, Optional

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from pydantic import BaseModel, ValidationError
import uvicorn

MAX_HISTORY = 6
NULL = "<|null|>"


# ---- the reference's models (field names, types and defaults as published) ----
class Message(BaseModel):
    role: str
    content: str


class FCRequest(BaseModel):
    messages: List[Message]
    tools: List[Dict[str, Any]]
    environment: Optional[List[str]] = None
    history: Optional[List[str]] = None
    max_tokens: int = 32
    temperature: float = 0.0
    include_content_head: bool = False


class FCResponse(BaseModel):
    success: bool
    function: Optional[str] = None
    args: Dict[str, Any] = {}
    heads: Dict[str, str] = {}
    content: Optional[str] = None
    latency_ms: float = 0
    error: Optional[str] = None


# ---- the reference's request handling, with a scripted engine for the model ----
def properties(tool: Dict[str, Any]) -> Dict[str, Any]:
    # The reference reads the OpenAI shape only: a tool without `function` has no arguments.
    return tool.get("function", {}).get("parameters", {}).get("properties", {})


def param_names(tools: List[Dict[str, Any]]) -> List[str]:
    names: List[str] = []
    for t in tools:
        for n in properties(t):
            if n not in names:
                names.append(n)
    return names[:6]


def max_args(tools: List[Dict[str, Any]]) -> int:
    return min(max([len(properties(t)) for t in tools] or [0]), 6)


def user_turn(req: FCRequest) -> str:
    env = json.dumps(req.environment or [], ensure_ascii=False)
    hist = ", ".join((req.history or [])[-MAX_HISTORY:])
    query = ""
    for m in req.messages:
        if m.role == "user":
            query = m.content
    return f"environment: {env}\nhistory: [{hist}]\n\n{query}"


def scripted_heads(req: FCRequest, n_args: int) -> Dict[str, str]:
    """The scripted engine: the first tool, each of its arguments a plausible value; heads past
    its arity are null. Raw texts end in their stop, as vLLM returns them with
    include_stop_str_in_output."""
    first = req.tools[0].get("function", {}) if req.tools else {}
    props = list(properties(req.tools[0]).items()) if req.tools else []
    raw: Dict[str, str] = {}
    if req.include_content_head:
        raw["content"] = "On it.</content>"
    raw["function"] = f"{first.get('name', '')}</function>"
    for k in range(1, n_args + 1):
        if k <= len(props):
            kind = props[k - 1][1].get("type", "string")
            value = "1" if kind in ("integer", "number") else " Left "
            raw[f"arg{k}"] = f"{value}</arg{k}>"
        else:
            raw[f"arg{k}"] = NULL
    return raw


STOPS = [NULL, "</content>", "</function>"] + [f"</arg{k}>" for k in range(1, 7)] + ["<|im_end|>"]


def answer(req: FCRequest) -> FCResponse:
    start = time.perf_counter()
    n_args = max_args(req.tools)
    heads = {}
    for name, text in scripted_heads(req, n_args).items():
        text = text.strip()
        for stop in STOPS:
            if text.endswith(stop):
                text = text[: -len(stop)].strip()
                break
        heads[name] = text
    latency_ms = (time.perf_counter() - start) * 1000
    func = heads.get("function", "").strip()
    if not func or func == NULL:
        return FCResponse(success=False, heads=heads, content=heads.get("content"),
                          latency_ms=latency_ms, error="No function called")
    args: Dict[str, Any] = {}
    for i, name in enumerate(param_names(req.tools)):
        val = heads.get(f"arg{i + 1}", "").strip()
        if val and val != NULL:
            if val.isdigit():
                args[name] = int(val)
            elif val.lstrip("-").replace(".", "", 1).isdigit():
                args[name] = float(val)
            else:
                args[name] = val.lower().strip()
    return FCResponse(success=True, function=func, args=args, heads=heads,
                      content=heads.get("content"), latency_ms=latency_ms)


def make_app(record: str) -> FastAPI:
    app = FastAPI(title="SimpleTool contract server (scripted engine)")
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True,
                       allow_methods=["*"], allow_headers=["*"])

    @app.get("/health")
    async def health():
        return {"status": "ok", "loaded": True, "model": "scripted"}

    @app.post("/v1/function_call", response_model=FCResponse)
    async def function_call(req: FCRequest):
        with open(record, "a", encoding="utf-8") as f:
            f.write(json.dumps({"request": req.model_dump(exclude_unset=True),
                                "user_turn": user_turn(req),
                                "heads": max_args(req.tools) + 1}, ensure_ascii=False) + "\n")
        return answer(req)

    return app


def validate(path: str) -> int:
    fields = list(FCResponse.model_fields)
    bad = 0
    n = 0
    with open(path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            n += 1
            obj = json.loads(line)
            missing = [k for k in fields if k not in obj]
            try:
                # Strict: no coercion may hide a wrong type (a number where a head text is due).
                FCResponse.model_validate(obj, strict=True)
            except ValidationError as e:
                print(f"{path}:{line_no}: not an FCResponse: {e}", file=sys.stderr)
                bad += 1
                continue
            if missing:
                print(f"{path}:{line_no}: fields missing: {', '.join(missing)}", file=sys.stderr)
                bad += 1
    print(f"{n} answers, {n - bad} valid FCResponse with every field present")
    return 1 if bad or n == 0 else 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--record", required=True)
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=0)
    v = sub.add_parser("validate")
    v.add_argument("file")
    a = p.parse_args()
    if a.cmd == "validate":
        return validate(a.file)
    # Bind here so that port 0 works and the address is known before uvicorn starts.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((a.host, a.port))
    sock.listen(128)  # connections queue from now on, before uvicorn takes the socket
    host, port = sock.getsockname()
    print(f"listening on http://{host}:{port}", flush=True)
    config = uvicorn.Config(make_app(a.record), log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
