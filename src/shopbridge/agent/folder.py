"""The Mamut company folders as the agent sees them: import files written, export files read."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

ENCODING = "iso-8859-1"
EXPORT_FILES = {"orders": "orders.xml", "customers": "customers.xml", "products": "products.xml", "stock": "stock.xml"}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def _digest(text: str, length: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


@dataclass(frozen=True)
class MamutFolder:
    """`import/` where Mamut picks files up, `export/` where it writes, `error/` where it leaves refusals."""

    root: Path

    @property
    def import_dir(self) -> Path:
        return self.root / "import"

    def file_name(self, reference: str, payload: str) -> str:
        """One name per reference and content: a resent document keeps its name, a fixed one gets a new one."""
        return f"sb-{_digest(reference, 20)}-{_digest(payload, 8)}.xml"

    def pending(self, reference: str) -> list[Path]:
        """Files for this reference Mamut has not picked up yet."""
        return sorted(self.import_dir.glob(f"sb-{_digest(reference, 20)}-*.xml"))

    def write(self, name: str, payload: str) -> Path:
        """Write whole, then rename: Mamut never sees half a file (it ignores `*.tmp`)."""
        target = self.import_dir / name
        temporary = target.with_suffix(".xml.tmp")
        temporary.write_bytes(payload.encode(ENCODING))
        os.replace(temporary, target)
        return target

    def rejection(self, name: str) -> str | None:
        """Mamut's reason for refusing this file, from the log it left beside it."""
        log = self.root / "error" / Path(name).with_suffix(".log").name
        return log.read_text(encoding=ENCODING).strip() if log.exists() else None

    def retire_rejection(self, name: str) -> None:
        """Once the refusal is answered, a retry after a fix in Mamut must try the file again."""
        log = self.root / "error" / Path(name).with_suffix(".log").name
        if log.exists():
            os.replace(log, log.with_suffix(".log.answered"))

    def export(self, kind: str) -> str | None:
        path = self.root / "export" / EXPORT_FILES[kind]
        return path.read_bytes().decode(ENCODING) if path.exists() else None

    def find_order(self, external_number: str) -> dict[str, str] | None:
        """The order Mamut holds with this external number (checked before every import)."""
        for node in self._records("orders", "ORDERLIST/ORDER"):
            if (node.findtext("EXTERNALID") or "").strip() == external_number:
                return {"number": _text(node, "ORDERID"), "status": _text(node, "STATUS")}
        return None

    def find_customer(self, email: str) -> dict[str, str] | None:
        wanted = email.strip().casefold()
        for node in self._records("customers", "CUSTOMERLIST/CUSTOMER"):
            if wanted and _text(node, "EMAIL").casefold() == wanted:
                return {"number": _text(node, "CONTID")}
        return None

    def _records(self, kind: str, path: str) -> list[etree._Element]:
        xml = self.export(kind)
        if xml is None:
            return []
        return list(etree.fromstring(xml.encode(ENCODING), _PARSER).findall(path))


def _text(node: etree._Element, tag: str) -> str:
    return (node.findtext(tag) or "").strip()


def email_in(payload: str) -> str:
    """The e-mail of the customer a GBACX10 payload creates."""
    root = etree.fromstring(payload.encode(ENCODING), _PARSER)
    return (root.findtext("CUSTOMERLIST/CUSTOMER/EMAIL") or "").strip()
