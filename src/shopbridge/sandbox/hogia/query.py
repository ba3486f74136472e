"""Query parameters of the Hogia emulator: api-version, paging and the list filters."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from shopbridge.sandbox.hogia.render import ApiProblem

# Seen in public clients (spec §2, Auth); any other value is refused.
API_VERSIONS = frozenset({"2024-06-12", "2024-11-11", "2025-02-13", "2025-03-21"})
MAX_PAGE_SIZE = 500  # spec §2, pagination: default and maximum 500
Json = dict[str, Any]


def check_api_version(params: Mapping[str, str], headers: Mapping[str, str]) -> str:
    """The `api-version` of a call, from the query or else the header (spec §2)."""
    version = params.get("api-version") or headers.get("api-version", "")
    if not version:
        raise ApiProblem(400, "The api-version query parameter is required.", {"api-version": ["Required."]})
    if version not in API_VERSIONS:
        raise ApiProblem(400, f"The api-version '{version}' is not supported.", {"api-version": ["Unsupported."]})
    return version


def _positive(params: Mapping[str, str], name: str, default: int) -> int:
    text = params.get(name, "")
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise ApiProblem(400, f"{name} must be a positive whole number.", {name: [f"The value '{text}' is not valid."]})
    return int(text)


def paging(params: Mapping[str, str]) -> tuple[int, int]:
    """(page, pageSize): 1-based pages; a size above the maximum is refused, not clipped."""
    size = _positive(params, "pageSize", MAX_PAGE_SIZE)
    if size > MAX_PAGE_SIZE:
        raise ApiProblem(400, f"pageSize must be at most {MAX_PAGE_SIZE}.", {"pageSize": ["Too large."]})
    return _positive(params, "page", 1), size


def _same(left: str, right: str) -> bool:
    # The filters compare without regard to case, as a default SQL Server collation would.
    return left.casefold() == right.casefold()


def contact_email(contact: Json) -> str:
    channels = contact.get("contactChannels") or []
    return next((str(item.get("value", "")) for item in channels if item.get("type") == "Email"), "")


CONTACT_FILTERS: dict[str, Callable[[Json], str]] = {
    "number": lambda contact: str(contact.get("number", "")),
    "email": contact_email,
    "identificationNumber": lambda contact: str(contact.get("identificationNumber") or ""),
}
ARTICLE_FILTERS: dict[str, Callable[[Json], str]] = {"number": lambda article: str(article["number"])}
INVOICE_FILTERS: dict[str, Callable[[Json], str]] = {
    "externalReference": lambda invoice: str(invoice["invoiceHeader"].get("externalReference") or ""),
    "customerNumber": lambda invoice: str(invoice["invoiceHeader"]["customerNumber"]),
    "state": lambda invoice: str(invoice["customerInvoiceState"]),
}


def select(items: list[Json], params: Mapping[str, str], filters: Mapping[str, Callable[[Json], str]]) -> list[Json]:
    """The items matching every filter named in the query; unknown query names are ignored."""
    wanted = [(filters[name], value) for name, value in params.items() if name in filters]
    return [item for item in items if all(_same(read(item), value) for read, value in wanted)]
