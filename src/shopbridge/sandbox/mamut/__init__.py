"""Mamut One Enterprise emulated as the file-drop system its Import/Export makes it (spec §2, §5).

Choices where the spec is uncertain or silent:
- Folders: `import/` is watched (only `*.xml`; writers rename from `*.tmp`), imported files move to
  `done/`, refused files to `error/` with `<name>.log` beside them (first line: the reason), and
  `export/` holds `orders.xml` (EO), `customers.xml` (EC), `products.xml` (EPR) and `stock.xml`,
  rewritten after every change, before the imported file leaves `import/`.
- A file is imported all or nothing. It is refused when the declaration is not ISO-8859-1, the XML
  is not well-formed, a tag is not upper case, the root is not GBAOX10/GBACX10/GBAPX10, a required
  tag is missing, a number has the wrong form or too many decimals, a VAT code is unknown, or a
  line's warehouse is not linked to its product (spec §2 GBAO10 col 22).
- The external order number tag is `EXTERNALID`; order line tags are `PRODID`, `DESCRIPTION`,
  `QUANTITY`, `PRICE` (unit price excl. VAT, ≤3 decimals), `DISCOUNT` (%), `VATCODE`, `STOREID`.
  The incoming `ORDERID` is cut to 9 characters; the external number is kept whole.
- Order status is a word: UNPROCESSED on import, then ORDER, DELIVERED, INVOICED, CANCELLED,
  exported as `STATUS` (undocumented; placeholders). Internal order numbers start at 10001,
  customer numbers at 10000.
- Contacts on customer and order import are matched by customer number, then e-mail, then
  organisation number (tag `ORGNO`, undocumented); otherwise created, with the next free number
  when `CONTID` is 0 or blank. `DATA56` carries an ISO country code (the numeric list is not
  captured). Blank fields on update keep what is there.
- Service products FRAKT (freight), GEBYR (fee), RABATT (discount), AVRUND (öre rounding, 0 % VAT)
  are seeded; their numbers are a choice.
- VAT codes: 1 = 0 %, 3 = 25 %, 5 = 15 %, 6 = 12 %; 0 on a line takes the product's code.
- Totals (`SUMORDER`, `SUMORDERVAT`, `SUMORDERTOTAL`) are rounded per line to the öre, half up.
- Stock is kept per warehouse; `stock.xml` (`STOCKEXPORT/STOCKLIST/STOCK` with PRODID, STOREID,
  QUANTITY) is a placeholder for the undocumented stock export. Price lists are not modelled.
- No currency on orders: the company's own currency is assumed.
- `python -m shopbridge.sandbox.mamut.cli` stands in for `Mamut ImportExport.exe` (see its module).
"""

from shopbridge.sandbox.mamut.app import MamutRunner, create_app
from shopbridge.sandbox.mamut.documents import exports, order_totals
from shopbridge.sandbox.mamut.seed import add_customer, add_product, seeded_state
from shopbridge.sandbox.mamut.state import MamutOrder, MamutState, set_status

__all__ = [
    "MamutOrder",
    "MamutRunner",
    "MamutState",
    "add_customer",
    "add_product",
    "create_app",
    "exports",
    "order_totals",
    "seeded_state",
    "set_status",
]
