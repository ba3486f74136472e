"""Tests of the PrestaShop connector."""
