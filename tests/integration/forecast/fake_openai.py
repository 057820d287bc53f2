"""A local HTTP server that speaks the parts of the OpenAI API the writer uses."""

from __future__ import annotations

import asyncio
from collections import deque
import contextlib
from dataclasses import dataclass, field
import re
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

VALID_KEY = "sk-test-porter-0123456789abcdefSECRET"
SERVED_MODEL = "gpt-4o-mini-2024-07-18"
REASONING = re.compile(r"^(o\d|gpt-5)")


@dataclass
class Reply:
    """One scripted answer to a chat completion request."""

    status: int = 200
    text: str | None = None
    error: dict[str, Any] | None = None
    delay_s: float = 0.0
    usage: tuple[int, int, int] = (180, 32, 212)


def text(content: str, usage: tuple[int, int, int] = (180, 32, 212)) -> Reply:
    """Return a successful answer with this content."""
    return Reply(text=content, usage=usage)


def error(status: int, code: str, message: str, kind: str | None = None) -> Reply:
    """Return an error answer shaped like OpenAI's."""
    return Reply(
        status=status,
        error={"message": message, "type": kind or code, "param": None, "code": code},
    )


QUOTA = error(
    429,
    "insufficient_quota",
    "You exceeded your current quota, please check your plan and billing details.",
)
RATE_LIMIT = error(
    429, "rate_limit_exceeded", "Rate limit reached for requests.", "requests"
)
SERVER_ERROR = error(
    500, "server_error", "The server had an error while processing your request."
)


def slow(seconds: float) -> Reply:
    """Return an answer that arrives only after this many seconds."""
    return Reply(text="Too late to matter.", delay_s=seconds)


@dataclass
class FakeOpenAI:
    """Scripted OpenAI server on 127.0.0.1, recording what it was asked."""

    valid_key: str = VALID_KEY
    quota_exhausted: bool = False
    # Models that answer 400 "Unsupported parameter" to a temperature, like o1.
    refuses_temperature: set[str] = field(default_factory=set)
    replies: deque[Reply] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)
    model_list_calls: int = 0
    _server: TestServer | None = None
    _release: asyncio.Event = field(default_factory=asyncio.Event)

    def queue(self, *replies: Reply) -> None:
        """Script the next answers, in order."""
        self.replies.extend(replies)

    @property
    def base_url(self) -> str:
        """Return the base URL a client should use."""
        assert self._server is not None
        return str(self._server.make_url("/v1"))

    async def start(self) -> None:
        """Start serving on a free loopback port."""
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()

    async def close(self) -> None:
        """Let slow handlers finish and stop the server."""
        self._release.set()
        if self._server is not None:
            await self._server.close()

    def _unauthorized(self, request: web.Request) -> web.Response | None:
        """Return a 401 unless the request carries the valid key."""
        header = request.headers.get("Authorization", "")
        if header == f"Bearer {self.valid_key}":
            return None
        presented = header.removeprefix("Bearer ")
        # Real servers echo part of the key; this one echoes all of it on purpose.
        return web.json_response(
            {
                "error": {
                    "message": f"Incorrect API key provided: {presented}.",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "invalid_api_key",
                }
            },
            status=401,
        )

    async def _models(self, request: web.Request) -> web.Response:
        """Answer the model list, as a key check does."""
        self.model_list_calls += 1
        if (refusal := self._unauthorized(request)) is not None:
            return refusal
        if self.quota_exhausted:
            return web.json_response({"error": QUOTA.error}, status=429)
        return web.json_response(
            {
                "object": "list",
                "data": [
                    {
                        "id": "gpt-4o-mini",
                        "object": "model",
                        "created": 1721172741,
                        "owned_by": "system",
                    }
                ],
            }
        )

    async def _chat(self, request: web.Request) -> web.Response:
        """Answer a chat completion from the script."""
        body = await request.json()
        self.requests.append(body)
        if (refusal := self._unauthorized(request)) is not None:
            return refusal
        model = str(body.get("model", ""))
        if "temperature" in body and (
            model in self.refuses_temperature or REASONING.match(model)
        ):
            return web.json_response(
                {
                    "error": {
                        "message": "Unsupported parameter: 'temperature' is not "
                        "supported with this model.",
                        "type": "invalid_request_error",
                        "param": "temperature",
                        "code": "unsupported_parameter",
                    }
                },
                status=400,
            )
        if not self.replies:
            return web.json_response(
                {"error": {"message": "No scripted reply", "type": "test"}}, status=418
            )
        reply = self.replies.popleft()
        if reply.delay_s:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._release.wait(), reply.delay_s)
        if reply.status != 200:
            return web.json_response({"error": reply.error}, status=reply.status)
        prompt, completion, total = reply.usage
        return web.json_response(
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": 1764770400,
                "model": SERVED_MODEL if not REASONING.match(model) else model,
                "choices": [
                    {
                        "index": 0,
                        "message": {
                            "role": "assistant",
                            "content": reply.text,
                            "refusal": None,
                        },
                        "finish_reason": "stop",
                        "logprobs": None,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "total_tokens": total,
                },
            }
        )
