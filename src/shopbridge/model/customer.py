"""Customers and their addresses."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

_EMAIL = re.compile(r"^[^@\s<>\x00-\x1f\x7f]+@[^@\s<>\x00-\x1f\x7f]+\.[^@\s<>\x00-\x1f\x7f]+$")


def clean_text(value: str) -> str:
    """Strip whitespace and refuse control characters that no ERP field accepts."""
    value = value.strip()
    if any((ord(ch) < 32 and ch not in "\t\n\r") or ord(ch) == 127 for ch in value):
        raise ValueError("contains control characters")
    return value


class Address(BaseModel):
    """A postal address; country is ISO 3166-1 alpha-2."""

    model_config = ConfigDict(frozen=True)

    first_name: str = Field(default="", max_length=255)
    last_name: str = Field(default="", max_length=255)
    company: str = Field(default="", max_length=255)
    street: str = Field(default="", max_length=255)
    street2: str = Field(default="", max_length=255)
    postcode: str = Field(default="", max_length=30)
    city: str = Field(default="", max_length=100)
    country: str = ""
    phone: str = Field(default="", max_length=50)
    vat_number: str = Field(default="", max_length=40)

    _clean = field_validator(
        "first_name", "last_name", "company", "street", "street2", "postcode", "city", "phone", "vat_number"
    )(clean_text)

    @field_validator("country")
    @classmethod
    def _iso_country(cls, country: str) -> str:
        code = country.strip().upper()
        if code and (len(code) != 2 or not code.isascii() or not code.isalpha()):
            raise ValueError(f"country must be an ISO 3166-1 alpha-2 code, got {country!r}")
        return code

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


class Customer(BaseModel):
    """The buyer of an order, matched across systems by email unless configured otherwise."""

    model_config = ConfigDict(frozen=True)

    email: str = Field(max_length=255)
    first_name: str = Field(default="", max_length=255)
    last_name: str = Field(default="", max_length=255)
    company: str = Field(default="", max_length=255)
    phone: str = Field(default="", max_length=50)
    vat_number: str = Field(default="", max_length=40)
    address: Address = Address()

    _clean = field_validator("first_name", "last_name", "company", "phone", "vat_number")(clean_text)

    @field_validator("email")
    @classmethod
    def _valid_email(cls, email: str) -> str:
        email = clean_text(email).lower()
        if not _EMAIL.match(email):
            raise ValueError(f"not a valid email address: {email!r}")
        return email

    @property
    def display_name(self) -> str:
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        return self.company or name or self.email
