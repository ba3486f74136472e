"""Tests of the e-conomic connector."""
