"""The operator's order pages in the system Chromium, driven by Playwright."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright, expect

from shopbridge.sandbox.server import serving
from shopbridge.store import Store
from shopbridge.web.app import create_app
from tests.web.conftest import Ledger

CHROMIUM = os.environ.get("SHOPBRIDGE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (make test installs it)"
)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        await launched.close()


async def test_operator_logs_in_sees_transferred_and_parked_orders_and_retries_one(
    browser: Browser, store: Store, ledger: Ledger, tmp_path: Path
) -> None:
    token = store.tokens.create("operator")
    with serving(create_app(store)) as web:
        page = await browser.new_page()
        await page.goto(f"{web.url}/")
        await expect(page.locator("#login")).to_be_visible()
        await page.locator("#token").fill(token)
        await page.locator("#login-button").click()
        rows = page.locator("#orders tbody tr")
        await expect(rows).to_have_count(2)
        await expect(page.locator(f'tr[data-transfer="{ledger.transferred}"] .state')).to_have_text("transferred")
        parked_row = page.locator(f'tr[data-transfer="{ledger.parked}"]')
        await expect(parked_row.locator(".reason")).to_contain_text("<script>alert(1)</script>")
        await page.screenshot(path=str(tmp_path / "orders.png"))
        await parked_row.locator("a").click()
        await expect(page.locator("#reason")).to_contain_text("no article for SKU")
        await page.locator("#retry").click()
        await expect(page.locator("#state")).to_have_text("pending")
        await page.close()
    assert store.ledger.get(ledger.parked).state == "pending"
