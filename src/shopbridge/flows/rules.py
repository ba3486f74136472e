"""The merchant's order rules: the `[orders]` table of a connection file."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shopbridge.connectors.base import DocumentKind


class OrderRules(BaseModel):
    """Which shop orders go to the ERP, and as what."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    trigger_statuses: frozenset[str] = Field(min_length=1)
    document: DocumentKind = DocumentKind.INVOICE
    book_invoices: bool = False
    match_customers_by: str = "email"
    poll_interval_seconds: float = Field(default=30.0, gt=0)
    overlap_seconds: float = Field(default=300.0, ge=0)
    initial_lookback_hours: float = Field(default=24.0, ge=0)
    # The claim on an order's ledger row; renewed every third of it while an attempt runs, so a
    # killed worker's orders wait at most this long (fencing keeps a lapsed attempt harmless).
    lease_seconds: float = Field(default=15.0, gt=0)
    # How long after an ERP write began its outcome is surely visible to lookups; the ERP
    # connector's own figure unless set.
    settle_seconds: float | None = Field(default=None, ge=0)

    @field_validator("trigger_statuses", mode="before")
    @classmethod
    def _as_strings(cls, value: object) -> object:
        if isinstance(value, (list, tuple, set, frozenset)):
            return frozenset(str(item).strip() for item in value)
        return value

    @field_validator("match_customers_by")
    @classmethod
    def _known_match_key(cls, value: str) -> str:
        if value != "email":
            raise ValueError("customers can only be matched by 'email' so far")
        return value
