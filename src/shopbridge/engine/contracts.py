"""The dataclasses that cross the workflow/activity boundary (one argument, one result)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class OrderRef:
    connection: str
    shop: str
    order_id: str


@dataclass
class TransferInput:
    connection: str
    transfer_id: str


@dataclass
class TransferOutput:
    transfer_id: str
    state: str
    document_kind: str = ""
    document_number: str = ""
    reason: str = ""
    adopted: bool = False
    check_after_seconds: float = 0.0
