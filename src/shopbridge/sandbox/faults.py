"""Fault injection shared by every emulator: latency, 429 with Retry-After, 5xx, timeouts,
connections dropped after the write committed, writes that commit after the client gave up and
new records that reach filtered lists only later.

`late_commit` holds the request for `seconds` (longer than the client waits), then lets the app
commit it whether or not anyone still listens: the client sees a timeout, the ERP has the write.
`delayed_visibility` does nothing to the request itself; an emulator asks the plan how long a
record created under the rule's path stays out of filtered lists (`visibility_delay`).

`FaultInjectionMiddleware` wraps an emulator's ASGI app. Rules live in a `FaultPlan` that tests
change in-process and operators change over HTTP at `/_sandbox/faults` (GET lists, PUT replaces,
DELETE clears). A rule matches by method and path prefix and fires `times` times (None = every
time) with the given probability; the plan's RNG is seeded so a run can be repeated.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
ErrorBody = Callable[[int], tuple[bytes, str]]

FaultKind = Literal["latency", "status", "timeout", "drop_after_commit", "late_commit", "delayed_visibility"]
# Kinds that describe how the emulator behaves rather than acting on one request.
PASSIVE_KINDS = frozenset({"delayed_visibility"})
CONTROL_PATH = "/_sandbox/faults"


class ConnectionDropped(Exception):
    """Raised after a committed write to cut the connection before the response is complete."""


@dataclass
class FaultRule:
    kind: FaultKind
    method: str | None = None
    path: str = "/"
    times: int | None = None
    probability: float = 1.0
    status: int = 503
    retry_after: float | None = None
    seconds: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        method_ok = self.method is None or self.method.upper() == method.upper()
        return method_ok and path.startswith(self.path) and (self.times is None or self.times > 0)


@dataclass
class FaultPlan:
    rules: list[FaultRule] = field(default_factory=list)
    seed: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def add(self, rule: FaultRule) -> FaultRule:
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        self.rules.clear()

    def visibility_delay(self, path: str) -> float:
        """Seconds a record created now under `path` stays out of filtered lists."""
        passive = [rule for rule in self.rules if rule.kind == "delayed_visibility" and rule.matches("POST", path)]
        delays = [rule.seconds for rule in passive if self._random.random() < rule.probability]
        return max(delays, default=0.0)

    def draw(self, method: str, path: str) -> list[FaultRule]:
        """The rules that fire for this request, each spending one of its `times`."""
        fired = []
        for rule in self.rules:
            if rule.kind in PASSIVE_KINDS:
                continue
            if rule.matches(method, path) and self._random.random() < rule.probability:
                if rule.times is not None:
                    rule.times -= 1
                fired.append(rule)
        self.fired += len(fired)
        return fired


async def _read_body(receive: Receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += bytes(message.get("body", b""))
        if not message.get("more_body"):
            return body


def _default_error_body(status: int) -> tuple[bytes, str]:
    return json.dumps({"message": f"injected fault {status}"}).encode(), "application/json"


class FaultInjectionMiddleware:
    """ASGI middleware that applies a `FaultPlan` before (or after) the wrapped app runs."""

    def __init__(self, app: ASGIApp, plan: FaultPlan, error_body: ErrorBody = _default_error_body) -> None:
        self.app = app
        self.plan = plan
        self.error_body = error_body
        self._late: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == CONTROL_PATH:
            await self._control(scope, receive, send)
            return
        drop = False
        for rule in self.plan.draw(scope["method"], scope["path"]):
            if rule.kind == "latency":
                await asyncio.sleep(rule.seconds)
            elif rule.kind == "timeout":
                await asyncio.sleep(rule.seconds)
                await self._respond(send, 504, *self.error_body(504))
                return
            elif rule.kind == "status":
                headers = [] if rule.retry_after is None else [(b"retry-after", str(rule.retry_after).encode())]
                await self._respond(send, rule.status, *self.error_body(rule.status), headers)
                return
            elif rule.kind == "drop_after_commit":
                drop = True
            elif rule.kind == "late_commit":
                await self._commit_late(scope, receive, send, rule.seconds)
                return
        if drop:
            await self._run_then_drop(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _run_then_drop(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Let the app commit, start the response, then cut the connection mid-body."""
        started: list[Message] = []

        async def swallow(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.append(message)

        await self.app(scope, receive, swallow)
        await send(started[0] if started else {"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{", "more_body": True})
        raise ConnectionDropped(f"injected drop after commit on {scope['method']} {scope['path']}")

    async def _commit_late(self, scope: Scope, receive: Receive, send: Send, seconds: float) -> None:
        """Read the request, wait past the client's patience, then commit it in a task of its own
        so that neither the client leaving nor the server cancelling this request can stop it."""
        body = await _read_body(receive)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return {"type": "http.disconnect"}
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def answer_if_anyone_listens(message: Message) -> None:
            with contextlib.suppress(Exception):
                await send(message)

        async def commit() -> None:
            await asyncio.sleep(seconds)
            await self.app(scope, replay, answer_if_anyone_listens)

        task = asyncio.create_task(commit())
        self._late.add(task)
        task.add_done_callback(self._late.discard)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(task)

    async def _control(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        if method == "PUT":
            body = await _read_body(receive)
            try:
                rules = [FaultRule(**item) for item in json.loads(body or b"[]")]
            except (ValueError, TypeError) as exc:
                await self._respond(send, 400, json.dumps({"error": str(exc)}).encode(), "application/json")
                return
            self.plan.rules[:] = rules
        elif method == "DELETE":
            self.plan.clear()
        payload = {"rules": [asdict(rule) for rule in self.plan.rules], "fired": self.plan.fired}
        await self._respond(send, 200, json.dumps(payload).encode(), "application/json")

    @staticmethod
    async def _respond(
        send: Send, status: int, body: bytes, content_type: str, extra: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers + (extra or [])})
        await send({"type": "http.response.body", "body": body})
