"""A scripted OpenAI-compatible chat server, so the LLM path runs for real without an LLM.

The agent under test talks to it with the real `ChatOpenAI` client over HTTP. The server plays
a script: each POST /v1/chat/completions takes the next `Reply` (a final text, or one or more
tool calls whose arguments may be deliberately malformed JSON), answers with its usage counts,
and records the request body, so a test can assert what the model was shown: the system prompt,
the tools offered, and the tool results (the `role: "tool"` messages).

    with ScriptedLLM([call("prometheus_instant_query", {"query": "up"}), text("All up.")]) as llm:
        settings = settings.model_copy(update={"llm": LLMSettings(base_url=llm.base_url)})
        ...
        assert "status=ok" in llm.tool_messages(1)[0]

A reply may also be a function of the request (to answer from what the model was shown), and
`then=` is played once the script is exhausted (e.g. a model that keeps calling tools). With no
`then`, an exhausted script answers HTTP 500 and records the fact in `errors`. `delay_s` holds a
reply back (for deadline tests); stopping the server wakes any held reply.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODELS = ("gpt-4o-mini", "scripted")


@dataclass(frozen=True)
class ToolCall:
    """One tool call; a str `arguments` is sent verbatim (so it can be malformed JSON)."""

    name: str
    arguments: str | dict[str, Any]
    id: str | None = None

    def encoded_arguments(self) -> str:
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(self.arguments)


@dataclass(frozen=True)
class Reply:
    """What the scripted model answers to one request."""

    text: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    prompt_tokens: int = 100
    completion_tokens: int = 20
    delay_s: float = 0.0


def text(content: str, **kwargs: Any) -> Reply:
    """A final answer."""
    return Reply(text=content, **kwargs)


def call(name: str, arguments: str | dict[str, Any], **kwargs: Any) -> Reply:
    """A reply with a single tool call."""
    return Reply(tool_calls=(ToolCall(name, arguments),), **kwargs)


def calls(*tool_calls: ToolCall, **kwargs: Any) -> Reply:
    """A reply with several tool calls at once (parallel tool calling)."""
    return Reply(tool_calls=tool_calls, **kwargs)


Step = Reply | Callable[[dict[str, Any]], Reply]


@dataclass
class ScriptedLLM:
    """The server; use as a context manager (starts on a free port of 127.0.0.1)."""

    script: Iterable[Step]
    then: Step | None = None
    model: str = "gpt-4o-mini"
    requests: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _steps: Iterator[Step] = field(init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _stopping: threading.Event = field(default_factory=threading.Event, repr=False)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1), repr=False)
    _server: ThreadingHTTPServer | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._steps = iter(list(self.script))

    # ------------------------------------------------------------------------------- life

    def __enter__(self) -> ScriptedLLM:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.llm = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def base_url(self) -> str:
        assert self._server is not None, "use ScriptedLLM as a context manager"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    # -------------------------------------------------------------------------- inspection

    def messages(self, index: int) -> list[dict[str, Any]]:
        """The messages of the `index`-th request (0-based)."""
        messages: list[dict[str, Any]] = self.requests[index]["messages"]
        return messages

    def system_prompt(self, index: int = 0) -> str:
        return "\n".join(
            str(m["content"]) for m in self.messages(index) if m["role"] in {"system", "developer"}
        )

    def tool_names(self, index: int = 0) -> list[str]:
        return [t["function"]["name"] for t in self.requests[index].get("tools", [])]

    def tool_messages(self, index: int) -> list[str]:
        """Contents of the tool results the model was shown in the `index`-th request."""
        return [str(m["content"]) for m in self.messages(index) if m["role"] == "tool"]

    def all_text(self) -> str:
        """Everything every request carried, as one string (to check what never reached it)."""
        return json.dumps(self.requests, ensure_ascii=False)

    # ---------------------------------------------------------------------------- serving

    def next_reply(self, body: dict[str, Any]) -> Reply | None:
        with self._lock:
            self.requests.append(body)
            step = next(self._steps, None)
            if step is None:
                step = self.then
            if step is None:
                self.errors.append(f"request {len(self.requests)}: script exhausted")
                return None
        return step(body) if callable(step) else step

    def completion(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.text}
        if reply.tool_calls:
            message["tool_calls"] = [
                {
                    "id": tc.id or f"call_{next(self._ids)}",
                    "type": "function",
                    "function": {"name": tc.name, "arguments": tc.encoded_arguments()},
                }
                for tc in reply.tool_calls
            ]
        return {
            "id": f"chatcmpl-{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": str(body.get("model", self.model)),
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if reply.tool_calls else "stop",
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": reply.prompt_tokens,
                "completion_tokens": reply.completion_tokens,
                "total_tokens": reply.prompt_tokens + reply.completion_tokens,
            },
        }

    def hold(self, seconds: float) -> None:
        """Wait `seconds`, or less if the server is stopping."""
        self._stopping.wait(seconds)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a held (slow) reply must not delay the end of a test
    llm: ScriptedLLM

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The client gave up on a slow reply (its timeout) and closed the socket: expected.
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str) -> None:
        self._send(status, {"error": {"message": message, "type": "invalid_request_error"}})

    def do_GET(self) -> None:
        llm = self.server.llm
        if self.path.rstrip("/") == "/v1/models":
            models = [{"id": m, "object": "model", "owned_by": "tests"} for m in MODELS]
            self._send(200, {"object": "list", "data": models})
            return
        del llm
        self._error(404, f"no route {self.path}")

    def do_POST(self) -> None:
        llm = self.server.llm
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._error(404, f"no route {self.path}")
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self._error(400, "body is not JSON")
            return
        if body.get("stream"):
            llm.errors.append("streaming requested; the scripted server answers whole replies")
            self._error(400, "streaming is not supported by the scripted server")
            return
        reply = llm.next_reply(body)
        if reply is None:
            self._error(500, "script exhausted")
            return
        if reply.delay_s:
            llm.hold(reply.delay_s)
        self._send(200, llm.completion(body, reply))
