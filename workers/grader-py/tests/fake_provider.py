"""A fake OpenAI-compatible provider: a real HTTP server for tests and local chaos drills.

It speaks ``POST /v1/chat/completions`` (a grade in the JSON-schema shape the worker asks for, built
from the request: the criteria enum of the schema, quotes taken from the answer) and
``POST /v1/audio/transcriptions`` (verbose JSON with word and segment timestamps). What each request
gets is scripted, per request, in order:

- ``ok``: a valid answer; ``429:<s>``: HTTP 429 with ``Retry-After: <s>``; ``500``: HTTP 500;
- ``slow:<s>``: waits ``s`` seconds, then answers ok (a client with a shorter timeout sees a timeout);
- ``malformed``: a completion whose content is not JSON; ``out_of_range``: a score of 11;
  ``off_grid``: a score of 6.3; ``missing``: one criterion left out; ``401``: a permanent rejection;
  ``off_topic``: a valid grade that judges the answer off topic.

``script`` is a queue consumed one request at a time; when it is empty, ``default`` answers, and
``pattern`` (a list, cycled) takes precedence over ``default`` when set. Every request is logged
(monotonic time, path, behaviour). In tests: ``FakeProvider()`` starts it on a free port in a
thread. Standalone: ``python tests/fake_provider.py --port 8099 --default 500``; then change it with
``POST /_control`` ``{"script": [...], "default": "ok", "pattern": [...]}`` and read ``GET /_control/calls``.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Call:
    at: float
    """time.monotonic() when the request arrived"""
    path: str
    behaviour: str
    answer: str


class FakeProvider:
    def __init__(self, port: int = 0, default: str = "ok") -> None:
        self.script: deque[str] = deque()
        self.default = default
        self.pattern: list[str] = []
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._served = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.path == "/_control/calls":
                    with owner._lock:
                        body = [c.__dict__ for c in owner.calls]
                    self._send(200, body)
                else:
                    self._send(404, {"error": "not found"})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                if self.path == "/_control":
                    owner.configure(**json.loads(raw or b"{}"))
                    self._send(200, {"ok": True})
                    return
                owner.handle(self, raw)

            def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout): what a slow provider sees

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    # --- scripting ---------------------------------------------------------------------------
    def configure(
        self, script: list[str] | None = None, default: str | None = None, pattern: list[str] | None = None
    ) -> None:
        with self._lock:
            if script is not None:
                self.script = deque(script)
            if default is not None:
                self.default = default
            if pattern is not None:
                self.pattern = list(pattern)
                self._served = 0

    def _next(self) -> str:
        with self._lock:
            if self.script:
                return self.script.popleft()
            if self.pattern:
                b = self.pattern[self._served % len(self.pattern)]
                self._served += 1
                return b
            return self.default

    def calls_to(self, path_end: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.path.endswith(path_end)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- answering ---------------------------------------------------------------------------
    def handle(self, h: Any, raw: bytes) -> None:
        behaviour = self._next()
        answer = ""
        request: dict[str, Any] = {}
        if h.path.endswith("/chat/completions"):
            try:
                request = json.loads(raw)
                answer = json.loads(request["messages"][-1]["content"]).get("answer", "")
            except (ValueError, KeyError, IndexError, TypeError):
                pass
        with self._lock:
            self.calls.append(Call(time.monotonic(), h.path, behaviour, answer))
        kind, _, arg = behaviour.partition(":")
        if kind == "429":
            h._send(429, {"error": {"message": "rate limited"}}, {"retry-after": arg or "1"})
            return
        if kind in ("500", "401"):
            h._send(int(kind), {"error": {"message": f"fake {kind}"}})
            return
        if kind == "slow":
            time.sleep(float(arg or "5"))
        if h.path.endswith("/audio/transcriptions"):
            h._send(200, transcription())
            return
        if not h.path.endswith("/chat/completions"):
            h._send(404, {"error": "not found"})
            return
        h._send(200, completion(request, answer, kind))


def transcription() -> dict[str, Any]:
    return {
        "text": "I think working from home is good",
        "language": "english",
        "duration": 2.5,
        "words": [
            {"word": w, "start": i * 0.3, "end": i * 0.3 + 0.25}
            for i, w in enumerate("I think working from home is good".split())
        ],
        "segments": [{"id": 0, "text": "I think working from home is good", "start": 0.0, "end": 2.5}],
    }


def completion(request: dict[str, Any], answer: str, kind: str) -> dict[str, Any]:
    try:
        schema = request["response_format"]["json_schema"]["schema"]
        criteria = schema["properties"]["criteria"]["items"]["properties"]["criterion"]["enum"]
    except (KeyError, TypeError):
        criteria = ["task_fulfilment", "organisation", "vocabulary", "grammar"]
    quote = " ".join(answer.split()[:4]) or "x"
    scores = [6.5, 7.0, 6.0, 7.5, 6.5]
    items = [
        {"criterion": c, "score": scores[i], "feedback": f"Good {c}, e.g. '{quote}'.", "quotes": [quote]}
        for i, c in enumerate(criteria)
    ]
    if kind == "out_of_range":
        items[0]["score"] = 11
    elif kind == "off_grid":
        items[0]["score"] = 6.3
    elif kind == "missing":
        items = items[:-1]
    content = json.dumps({"criteria": items, "feedback": "A clear answer.", "off_topic": kind == "off_topic"})
    if kind == "malformed":
        content = "Sure! Here is the grade: {criteria: [oops"
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "model": request.get("model", "fake"),
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="fake OpenAI-compatible provider for chaos drills")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--default", default="ok", help="behaviour when nothing is scripted")
    parser.add_argument("--pattern", default="", help="comma-separated behaviours, cycled (e.g. 500,ok)")
    args = parser.parse_args()
    fake = FakeProvider(args.port, args.default)
    if args.pattern:
        fake.configure(pattern=args.pattern.split(","))
    print(json.dumps({"url": fake.url, "port": fake.port}), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.close()


if __name__ == "__main__":
    main()
