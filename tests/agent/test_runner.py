"""The agent against ShopBridge's API and an emulated Mamut, in this process: once per reference, always."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from shopbridge.agent.folder import MamutFolder
from shopbridge.sandbox import mamut
from shopbridge.store import Store
from tests.mamut_support import MamutSide, agent_task, eventually, mamut_side

ORDER = ('<?xml version="1.0" encoding="iso-8859-1"?><GBAOX10><ORDERLIST><ORDER><ORDERID>7</ORDERID>'
         "<CONTID>0</CONTID><CONTNAME>Åse</CONTNAME><EXTERNALID>{reference}</EXTERNALID><ORDERLINES><ORDERLINE>"
         "<PRODID>{product}</PRODID><QUANTITY>1</QUANTITY><PRICE>79.2</PRICE></ORDERLINE></ORDERLINES></ORDER>"
         "</ORDERLIST></GBAOX10>")  # fmt: skip


def order(reference: str, product: str = "MUG-01") -> str:
    return ORDER.format(reference=reference, product=product)


def side_for(store: Store, tmp_path: Path) -> MamutSide:
    return mamut_side(store, tmp_path, "acme")


async def test_a_file_still_waiting_for_mamut_is_not_written_again(store: Store, tmp_path: Path) -> None:
    side = side_for(store, tmp_path)
    folder = MamutFolder(side.directory)
    folder.write(folder.file_name("acme/1/1", order("acme/1/1")), order("acme/1/1"))  # an earlier run's file
    store.agents.enqueue("acme", "acme/1/1", "order", order("acme/1/1"))
    async with agent_task(side):
        await eventually(lambda: (job := store.agents.job("acme", "acme/1/1")) is not None and job.attempts >= 1)
        assert len(list((side.directory / "import").glob("*.xml"))) == 1
        side.runner.start()
        await eventually(lambda: store.agents.job("acme", "acme/1/1").state == "done")  # type: ignore[union-attr]
    side.close()
    assert len(side.erp.orders_by_external("acme/1/1")) == 1


async def test_an_order_mamut_already_has_is_adopted_without_a_file(store: Store, tmp_path: Path) -> None:
    side = side_for(store, tmp_path)
    (side.directory / "import" / "earlier.xml").write_text(order("acme/1/2"), encoding="iso-8859-1")
    side.runner.run_once()
    store.agents.enqueue("acme", "acme/1/2", "order", order("acme/1/2"))
    async with agent_task(side):
        await eventually(lambda: store.agents.job("acme", "acme/1/2").state == "done")  # type: ignore[union-attr]
    side.close()
    job = store.agents.job("acme", "acme/1/2")
    assert job is not None and job.result == {"number": "10001", "status": "UNPROCESSED", "adopted": True}
    assert list((side.directory / "import").glob("*.xml")) == [] and len(list((side.directory / "done").iterdir())) == 1


async def test_a_refused_file_is_answered_with_mamuts_log_line(store: Store, tmp_path: Path) -> None:
    side = side_for(store, tmp_path)
    mamut.add_product(side.erp, "MUG-01", "Mug", mamut.seeded_state().products["MUG-01"].price_out, stock={3: 1})
    side.runner.start()
    store.agents.enqueue("acme", "acme/1/3", "order", order("acme/1/3"))
    async with agent_task(side):
        await eventually(lambda: store.agents.job("acme", "acme/1/3").state == "failed")  # type: ignore[union-attr]
    side.close()
    job = store.agents.job("acme", "acme/1/3")
    assert job is not None and "warehouse 1 is not linked to product MUG-01" in job.error


async def test_after_a_fix_in_mamut_the_same_document_is_tried_again(store: Store, tmp_path: Path) -> None:
    side = side_for(store, tmp_path)
    mug = side.erp.products["MUG-01"]
    stock, mug.stock = mug.stock, {3: mamut.seeded_state().products["MUG-01"].stock[1]}
    side.runner.start()
    store.agents.enqueue("acme", "acme/1/3", "order", order("acme/1/3"))
    async with agent_task(side):
        await eventually(lambda: store.agents.job("acme", "acme/1/3").state == "failed")  # type: ignore[union-attr]
        mug.stock = stock  # someone links the product to the main warehouse
        store.agents.enqueue("acme", "acme/1/3", "order", order("acme/1/3"))  # the operator's retry
        await eventually(lambda: store.agents.job("acme", "acme/1/3").state == "done")  # type: ignore[union-attr]
    side.close()
    assert len(side.erp.orders_by_external("acme/1/3")) == 1


async def test_the_agent_reports_its_health_and_sends_the_exports(store: Store, tmp_path: Path) -> None:
    side = side_for(store, tmp_path)
    async with agent_task(side):
        await eventually(lambda: store.agents.export("acme", "stock") is not None)
        await eventually(lambda: bool((health := store.agents.health("acme")) and health.agent_info))
    side.close()
    health = store.agents.health("acme")
    assert health is not None and health.agent_info["mamut_dir_ok"] is True and health.agent_info["buffered"] == 0
    products = store.agents.export("acme", "products")
    assert products is not None and "<PRODID>MUG-01</PRODID>" in products[0]


async def test_a_refused_token_is_logged_and_retried_not_fatal(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    side = side_for(store, tmp_path)
    store.agents.issue_token("acme")  # a new token retires the one the agent holds
    with caplog.at_level(logging.WARNING, logger="shopbridge.agent"):
        async with agent_task(side):
            await eventually(lambda: caplog.text.count("refused the agent token") >= 2)
    side.close()
    assert store.agents.export("acme", "orders") is None


async def test_with_the_command_line_configured_the_agent_imports_through_it_once(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    side = side_for(store, tmp_path)
    side.runner.start()
    monkeypatch.setenv("MAMUT_EMULATOR_DIR", str(side.directory))
    command = f"{sys.executable} -m shopbridge.sandbox.mamut.cli"
    store.agents.enqueue("acme", "acme/1/4", "order", order("acme/1/4"))
    refused = order("acme/1/5").replace("</PRICE>", "</PRICE><VATCODE>42</VATCODE>")
    store.agents.enqueue("acme", "acme/1/5", "order", refused)
    async with agent_task(side, mamut_dir=tmp_path / "agent-folder", import_command=command):
        await eventually(lambda: store.agents.job("acme", "acme/1/5").state == "failed", timeout=30)  # type: ignore[union-attr]
        await eventually(lambda: store.agents.job("acme", "acme/1/4").state == "done", timeout=30)  # type: ignore[union-attr]
    side.close()
    assert len(side.erp.orders_by_external("acme/1/4")) == 1 and side.erp.orders_by_external("acme/1/5") == []
    assert "VAT code 42 does not exist" in store.agents.job("acme", "acme/1/5").error  # type: ignore[union-attr]
    assert (tmp_path / "agent-folder" / "export" / "orders.xml").exists()
