"""Resource definitions of the emulated PrestaShop webservice: fields, links and associations (spec §9).

Fields are declared in a compact notation, one token per field, in the order the real API prints
them: `name[>resource][:kind][flags]`.

* `>resource` — a foreign key printed with `xlink:href` to that resource when non-zero;
* `:kind` — `text` (default), `int`, `bool`, `d6`/`d3`/`d2` (decimals as the DB prints them),
  `date` (`YYYY-MM-DD HH:MM:SS`), `day` (`YYYY-MM-DD`), `email`, `tracking`; links are `int`;
* flags — `*` required on write, `!` not writable (setter false → error 93), `^` computed by a
  getter (`notFilterable="true"`), `@` i18n (one value per language), `#` a JSON integer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

NUMERIC_KINDS = frozenset({"int", "bool", "d6", "d3", "d2"})
DECIMAL_PLACES = {"d6": 6, "d3": 3, "d2": 2}
READ_METHODS = frozenset({"GET", "HEAD"})
ALL_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"})
UPDATE_METHODS = frozenset({"GET", "HEAD", "PUT", "PATCH"})
_TOKEN = re.compile(r"^(\w+)(?:>(\w+))?(?::(\w+))?([*!^@#]*)$")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str = "text"
    link: str | None = None
    required: bool = False
    writable: bool = True
    getter: bool = False
    i18n: bool = False
    json_int: bool = False

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS

    def blank(self) -> str:
        """What the database holds when a write left this field out (PS nulls it, MySQL casts)."""
        if self.kind in DECIMAL_PLACES:
            return "0." + "0" * DECIMAL_PLACES[self.kind]
        if self.kind in ("int", "bool"):
            return "0"
        return {"date": "0000-00-00 00:00:00", "day": "0000-00-00"}.get(self.kind, "")


@dataclass(frozen=True)
class AssociationSpec:
    name: str
    node: str
    api: str | None = None
    fields: tuple[FieldSpec, ...] = ()
    writable: bool = False

    def field(self, name: str) -> FieldSpec | None:
        return next((item for item in self.fields if item.name == name), None)


@dataclass(frozen=True)
class ResourceSpec:
    name: str
    node: str
    description: str
    fields: tuple[FieldSpec, ...]
    associations: tuple[AssociationSpec, ...] = ()
    methods: frozenset[str] = READ_METHODS
    forbidden: frozenset[str] = frozenset()
    shop_scoped: bool = False
    _index: dict[str, FieldSpec] = field(default_factory=dict, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update({item.name: item for item in self.fields})

    @property
    def class_name(self) -> str:
        return "".join(part.capitalize() for part in self.node.split("_"))

    def field(self, name: str) -> FieldSpec | None:
        return self._index.get(name)

    def association(self, name: str) -> AssociationSpec | None:
        return next((item for item in self.associations if item.name == name), None)

    def field_names(self) -> list[str]:
        return ["id", *(item.name for item in self.fields)]


def parse_fields(notation: str) -> tuple[FieldSpec, ...]:
    """Turn the compact field notation described in the module docstring into specs."""
    return tuple(_parse_token(token) for token in notation.split())


def _parse_token(token: str) -> FieldSpec:
    match = _TOKEN.match(token)
    if match is None:
        raise ValueError(f"bad field token {token!r}")
    name, link, kind, flags = match.groups()
    return FieldSpec(
        name=name,
        kind=kind or ("int" if link else "text"),
        link=link,
        required="*" in flags,
        writable="!" not in flags,
        getter="^" in flags,
        i18n="@" in flags,
        json_int="#" in flags,
    )


def _assoc(name: str, node: str, api: str | None, notation: str = "", writable: bool = False) -> AssociationSpec:
    return AssociationSpec(name, node, api, parse_fields(notation), writable)


def _resource(name: str, node: str, description: str, notation: str, **extra: Any) -> ResourceSpec:
    return ResourceSpec(name, node, description, parse_fields(notation), **extra)


_PRODUCT_FIELDS = (
    "id_manufacturer>manufacturers id_supplier>suppliers id_category_default>categories new:bool "
    "cache_default_attribute:int id_default_image>images^ id_default_combination>combinations^ "
    "id_tax_rules_group>tax_rule_groups position_in_category:int^ manufacturer_name^! quantity:int^! type^ "
    "id_shop_default>shops reference supplier_reference location width:d6 height:d6 depth:d6 weight:d6 "
    "quantity_discount:bool ean13 isbn upc mpn cache_is_pack:bool cache_has_attachments:bool is_virtual:bool "
    "state:int additional_delivery_times:int product_type on_sale:bool online_only:bool ecotax:d6 "
    "minimal_quantity:int low_stock_threshold:int low_stock_alert:bool price:d6* wholesale_price:d6 unity "
    "unit_price_ratio:d6 additional_shipping_cost:d6 customizable:int text_fields:int uploadable_files:int "
    "active:bool redirect_type id_type_redirected:int available_for_order:bool available_date:day "
    "show_condition:bool condition show_price:bool indexed:bool visibility advanced_stock_management:bool "
    "date_add:date date_upd:date pack_stock_type:int meta_description@ meta_keywords@ meta_title@ "
    "link_rewrite@ name@* description@ description_short@ available_now@ available_later@ "
    "delivery_in_stock@ delivery_out_stock@"
)
_PRODUCT_ASSOCIATIONS = (
    _assoc("categories", "category", "categories", writable=True),
    _assoc("images", "image", "images"),
    _assoc("combinations", "combination", "combinations"),
    _assoc("product_option_values", "product_option_value", "product_option_values"),
    _assoc("product_features", "product_feature", "product_features", "id_feature_value>product_feature_values", True),
    _assoc("tags", "tag", "tags", writable=True),
    _assoc("stock_availables", "stock_available", "stock_availables", "id_product_attribute:int"),
    _assoc("accessories", "product", "products", writable=True),
    _assoc("product_bundle", "product", "products", "id_product_attribute:int quantity:int", True),
)
_ORDER_FIELDS = (
    "id_address_delivery>addresses* id_address_invoice>addresses* id_cart>carts* id_currency>currencies* "
    "id_lang>languages* id_customer>customers* id_carrier>carriers* current_state>order_states module* "
    "invoice_number:int invoice_date:date delivery_number:int delivery_date:date valid:bool date_add:date "
    "date_upd:date shipping_number^ note id_shop_group>shop_groups id_shop>shops secure_key payment* "
    "recyclable:bool gift:bool gift_message mobile_theme:bool total_discounts:d6 total_discounts_tax_incl:d6 "
    "total_discounts_tax_excl:d6 total_paid:d6* total_paid_tax_incl:d6 total_paid_tax_excl:d6 "
    "total_paid_real:d6* total_products:d6* total_products_wt:d6* total_shipping:d6 "
    "total_shipping_tax_incl:d6 total_shipping_tax_excl:d6 carrier_tax_rate:d3 total_wrapping:d6 "
    "total_wrapping_tax_incl:d6 total_wrapping_tax_excl:d6 round_mode:int round_type:int "
    "conversion_rate:d6* reference"
)
ORDER_ROW_FIELDS = (
    "product_id:int product_attribute_id:int product_quantity:int product_name product_reference "
    "product_ean13 product_isbn product_upc product_price:d6 id_customization:int "
    "unit_price_tax_incl:d6 unit_price_tax_excl:d6"
)
_ORDER_DETAIL_FIELDS = (
    "id_order>orders* product_id>products product_attribute_id>combinations product_quantity_reinjected:int "
    "group_reduction:d2 discount_quantity_applied:bool download_hash download_deadline:date "
    "id_order_invoice>order_invoices id_warehouse>warehouses id_shop>shops id_customization>customizations "
    "product_name* product_quantity:int* product_quantity_in_stock:int product_quantity_return:int "
    "product_quantity_refunded:int product_price:d6* reduction_percent:d2 reduction_amount:d6 "
    "reduction_amount_tax_incl:d6 reduction_amount_tax_excl:d6 product_quantity_discount:d6 product_ean13 "
    "product_isbn product_upc product_mpn product_reference product_supplier_reference product_weight:d6 "
    "tax_computation_method:int id_tax_rules_group>tax_rule_groups ecotax:d6 ecotax_tax_rate:d3 "
    "download_nb:int unit_price_tax_incl:d6 unit_price_tax_excl:d6 total_price_tax_incl:d6 "
    "total_price_tax_excl:d6 total_shipping_price_tax_excl:d6 total_shipping_price_tax_incl:d6 "
    "purchase_supplier_price:d6 original_product_price:d6 original_wholesale_price:d6 "
    "total_refunded_tax_excl:d6 total_refunded_tax_incl:d6 tax_rate:d3 tax_name"
)
_CUSTOMER_FIELDS = (
    "id_default_group>groups id_lang>languages newsletter_date_add:date ip_registration_newsletter "
    "last_passwd_gen:date secure_key deleted:bool passwd* lastname* firstname* email:email* id_gender:int "
    "birthday:day newsletter:bool optin:bool website company siret ape outstanding_allow_amount:d6 "
    "show_public_prices:bool id_risk:int max_payment_days:int active:bool note is_guest:bool id_shop>shops "
    "id_shop_group>shop_groups date_add:date date_upd:date reset_password_token reset_password_validity:date"
)
_ADDRESS_FIELDS = (
    "id_customer>customers id_manufacturer>manufacturers id_supplier>suppliers id_warehouse>warehouses "
    "id_country>countries* id_state>states alias* company lastname* firstname* vat_number address1* address2 "
    "postcode city* other phone phone_mobile dni deleted:bool date_add:date date_upd:date"
)
_COMBINATION_FIELDS = (
    "id_product>products* location ean13 isbn upc mpn quantity:int^# reference supplier_reference "
    "wholesale_price:d6 price:d6 ecotax:d6 weight:d6 unit_price_impact:d6 minimal_quantity:int* "
    "low_stock_threshold:int low_stock_alert:bool default_on:bool available_date:day"
)
_CARRIER_FIELDS = (
    "deleted:bool is_module:bool id_tax_rules_group>tax_rule_groups^ id_reference:int name* active:bool* "
    "is_free:bool url shipping_handling:bool shipping_external:bool range_behavior:bool shipping_method:int# "
    "max_width:int max_height:int max_depth:int max_weight:d6 grade:int external_module_name "
    "need_range:bool position:int delay@*"
)
_ORDER_STATE_FIELDS = (
    "unremovable:bool delivery:bool hidden:bool send_email:bool module_name invoice:bool color logable:bool "
    "shipped:bool paid:bool pdf_delivery:bool pdf_invoice:bool deleted:bool name@* template@"
)

RESOURCES: dict[str, ResourceSpec] = {
    spec.name: spec
    for spec in (
        _resource("addresses", "address", "The Customer, Brand and Customer addresses", _ADDRESS_FIELDS,
                  methods=ALL_METHODS),
        _resource("carriers", "carrier", "The Carriers", _CARRIER_FIELDS),
        _resource("categories", "category", "The product categories",
                  "id_parent>categories active:bool* id_shop_default>shops is_root_category:bool position:int "
                  "date_add:date date_upd:date name@* link_rewrite@* description@"),
        _resource("combinations", "combination", "The product combinations", _COMBINATION_FIELDS,
                  associations=(_assoc("product_option_values", "product_option_value", "product_option_values",
                                       writable=True),
                                _assoc("images", "image", "images", writable=True)),
                  methods=ALL_METHODS),
        _resource("countries", "country", "The countries",
                  "id_zone>zones* id_currency>currencies call_prefix:int iso_code* active:bool "
                  "contains_states:bool* need_identification_number:bool* need_zip_code:bool zip_code_format "
                  "display_tax_label:bool* name@*"),
        _resource("currencies", "currency", "The currencies",
                  "name* symbol@ iso_code* numeric_iso_code precision:int conversion_rate:d6* deleted:bool "
                  "active:bool"),
        _resource("customers", "customer", "The e-shop's customers", _CUSTOMER_FIELDS,
                  associations=(_assoc("groups", "group", "groups", writable=True),),
                  methods=ALL_METHODS, shop_scoped=True),
        _resource("groups", "group", "The customer's groups",
                  "reduction:d2 price_display_method:int* show_prices:bool date_add:date date_upd:date name@*"),
        _resource("languages", "language", "Shop languages",
                  "name* iso_code* locale language_code active:bool is_rtl:bool date_format_lite* "
                  "date_format_full*"),
        _resource("order_carriers", "order_carrier", "The Order carriers",
                  "id_order>orders* id_carrier>carriers* id_order_invoice>order_invoices weight:d6 "
                  "shipping_cost_tax_excl:d6 shipping_cost_tax_incl:d6 tracking_number:tracking date_add:date",
                  methods=UPDATE_METHODS),
        _resource("order_cart_rules", "order_cart_rule", "The Order cart rules",
                  "id_order>orders* id_cart_rule>cart_rules* id_order_invoice>order_invoices name* value:d2* "
                  "value_tax_excl:d2* free_shipping:bool deleted:bool"),
        _resource("order_details", "order_detail", "Details of an order", _ORDER_DETAIL_FIELDS,
                  associations=(_assoc("taxes", "tax", "taxes"),)),
        _resource("order_histories", "order_history", "The Order histories",
                  "id_employee>employees id_order_state>order_states* id_order>orders* date_add:date",
                  methods=READ_METHODS | {"POST"}),
        _resource("order_payments", "order_payment", "The Order payments",
                  "order_reference id_currency>currencies* amount:d6* payment_method conversion_rate:d6 "
                  "transaction_id card_number card_brand card_expiration card_holder date_add:date "
                  "id_employee>employees"),
        _resource("order_states", "order_state", "The Order statuses", _ORDER_STATE_FIELDS),
        _resource("orders", "order", "The Customers orders", _ORDER_FIELDS,
                  associations=(_assoc("order_rows", "order_row", None, ORDER_ROW_FIELDS),),
                  methods=UPDATE_METHODS, shop_scoped=True),
        _resource("product_option_values", "product_option_value", "The product options value",
                  "id_attribute_group>product_options* color position:int name@*", methods=ALL_METHODS),
        _resource("product_options", "product_option", "The product options",
                  "is_color_group:bool group_type* position:int name@* public_name@*",
                  associations=(_assoc("product_option_values", "product_option_value", "product_option_values"),),
                  methods=ALL_METHODS),
        _resource("products", "product", "The products", _PRODUCT_FIELDS, associations=_PRODUCT_ASSOCIATIONS,
                  methods=ALL_METHODS),
        _resource("shop_groups", "shop_group", "Shop groups from multi-shop feature",
                  "name* color share_customer:bool share_order:bool share_stock:bool active:bool deleted:bool"),
        _resource("shops", "shop", "Shops from multi-shop feature",
                  "id_shop_group>shop_groups* id_category>categories* active:bool deleted:bool name* color "
                  "theme_name"),
        _resource("stock_availables", "stock_available", "Available quantities",
                  "id_product>products* id_product_attribute>combinations* id_shop>shops "
                  "id_shop_group>shop_groups quantity:int* depends_on_stock:bool* out_of_stock:int* location",
                  methods=UPDATE_METHODS, forbidden=frozenset({"POST", "DELETE"}), shop_scoped=True),
        _resource("tax_rule_groups", "tax_rule_group", "Tax rule groups",
                  "name* active:bool deleted:bool date_add:date date_upd:date"),
        _resource("tax_rules", "tax_rule", "Tax rules entity",
                  "id_tax_rules_group>tax_rule_groups* id_state>states id_country>countries* zipcode_from "
                  "zipcode_to id_tax>taxes* behavior:int description"),
        _resource("taxes", "tax", "The tax rate", "rate:d3* active:bool deleted:bool name@*"),
        _resource("zones", "zone", "The Countries zones", "name* active:bool"),
    )
}
