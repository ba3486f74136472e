"""Pacing shared by the emulators: a token bucket answering 429, and a simulated round trip."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.types import Message, Receive, Scope, Send

from shopbridge.sandbox.faults import ASGIApp

ErrorBody = Callable[[int], tuple[bytes, str]]


@dataclass
class TokenBucket:
    """Requests spend one token each; tokens refill continuously up to `capacity`."""

    capacity: float
    refill_per_second: float
    clock: Callable[[], float] = time.monotonic
    tokens: float = field(init=False)
    updated: float = field(init=False)
    refused: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.tokens = self.capacity
        self.updated = self.clock()

    @classmethod
    def per_window(cls, requests: int, seconds: float) -> TokenBucket:
        """A bucket that lets `requests` through at once and refills them over `seconds`."""
        return cls(capacity=requests, refill_per_second=requests / seconds)

    def take(self) -> float:
        """Spend a token: 0 when allowed, else the seconds until one is available."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.refill_per_second)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        self.refused += 1
        return (1 - self.tokens) / self.refill_per_second


def retry_after_header(wait: float) -> dict[str, str]:
    """Whole seconds, at least one, as the HTTP header carries them."""
    return {"Retry-After": str(max(1, math.ceil(wait)))}


class RateLimitMiddleware:
    """Answers 429 with Retry-After once `bucket()` is out of tokens; paths under `exempt` pass free."""

    def __init__(
        self, app: ASGIApp, bucket: Callable[[], TokenBucket | None], error_body: ErrorBody, exempt: str = "/_sandbox"
    ) -> None:
        self.app, self.bucket, self.error_body, self.exempt = app, bucket, error_body, exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        bucket = self.bucket()
        if scope["type"] != "http" or bucket is None or str(scope.get("path", "")).startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        wait = bucket.take()
        if not wait:
            await self.app(scope, receive, send)
            return
        body, content_type = self.error_body(429)
        headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
        headers += [(name.lower().encode(), value.encode()) for name, value in retry_after_header(wait).items()]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class RoundTripMiddleware:
    """Holds every answer back by `seconds()`, as a remote across the internet would."""

    def __init__(self, app: ASGIApp, seconds: Callable[[], float]) -> None:
        self.app, self.seconds = app, seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        delay = self.seconds() if scope["type"] == "http" else 0.0
        if delay <= 0:
            await self.app(scope, receive, send)
            return

        async def delayed(message: Message) -> None:
            if message["type"] == "http.response.start":
                await asyncio.sleep(delay)
            await send(message)

        await self.app(scope, receive, delayed)
