"""Tests of the Hogia Smart connector."""
