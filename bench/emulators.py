"""Both emulators in a process of their own, so serving them does not take the worker's CPU time."""

from __future__ import annotations

import multiprocessing
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from shopbridge.sandbox import economic, prestashop
from shopbridge.sandbox.limits import TokenBucket
from shopbridge.sandbox.registry import RATE_LIMITS
from shopbridge.sandbox.server import serving


def serve(pipe: Connection, round_trip: float, rate_limited: bool) -> None:
    """The child: serve both emulators and answer the parent's commands until told to stop."""
    shop_state, erp_state = prestashop.seeded_state(seed=11), economic.seeded_state(seed=11)
    for state, system in ((shop_state, "prestashop"), (erp_state, "economic")):
        state.round_trip_seconds = round_trip
        state.rate_limit = TokenBucket.per_window(*RATE_LIMITS[system]) if rate_limited else None
    with serving(prestashop.create_app(shop_state)) as shop, serving(economic.create_app(erp_state)) as erp:
        pipe.send({"shop_url": shop.url, "shop_key": shop_state.api_key, "erp_url": erp.url,
                   "app_secret_token": erp_state.app_secret_token,
                   "agreement_grant_token": erp_state.agreement_grant_token})  # fmt: skip
        while (command := pipe.recv())[0] != "stop":
            if command[0] == "place":
                pipe.send([prestashop.place_order(shop_state, customer_email=email, lines=basket)
                           for email, basket in command[1]])  # fmt: skip
            else:
                buckets = (shop_state.rate_limit, erp_state.rate_limit)
                pipe.send(sum(bucket.refused for bucket in buckets if bucket is not None))


@dataclass
class Emulators:
    """The parent's handle on the emulator process."""

    process: multiprocessing.process.BaseProcess
    pipe: Connection
    where: dict[str, Any]

    @classmethod
    def start(cls, round_trip: float, rate_limited: bool) -> Emulators:
        parent, child = multiprocessing.get_context("spawn").Pipe()
        process = multiprocessing.get_context("spawn").Process(target=serve, args=(child, round_trip, rate_limited))
        process.start()
        return cls(process, parent, parent.recv())

    def place(self, orders: list[tuple[str, list[tuple[str, int]]]]) -> list[int]:
        self.pipe.send(("place", orders))
        placed: list[int] = self.pipe.recv()
        return placed

    def refused(self) -> int:
        self.pipe.send(("refused",))
        count: int = self.pipe.recv()
        return count

    def stop(self) -> None:
        self.pipe.send(("stop",))
        self.process.join(timeout=15)
