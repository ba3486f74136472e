"""The dataclasses that cross the workflow/activity boundary (one argument, one result)."""

from __future__ import annotations

from dataclasses import dataclass, field


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


@dataclass
class PollInput:
    connection: str
    # ISO time a round cut short by its bound continues from ('' = the cursor minus the overlap).
    resume_from: str = ""


@dataclass
class PollOutput:
    seen: int = 0
    pending: list[OrderRef] = field(default_factory=list)
    # Set when the round stopped at its bound: the next round resumes here.
    resume_from: str = ""


@dataclass
class StartTransfersInput:
    refs: list[OrderRef] = field(default_factory=list)
    retry_seconds: float = 1.0
