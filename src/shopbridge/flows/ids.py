"""The deterministic id of an order transfer (ARCHITECTURE.md, correctness rule 1)."""

from __future__ import annotations


def transfer_id(connection: str, shop: str, order_id: str) -> str:
    """The one id of a transfer: workflow id, ledger key and the ERP document's reference."""
    return f"{connection}/{shop}/{order_id}"
