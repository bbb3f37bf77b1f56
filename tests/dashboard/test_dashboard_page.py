"""The dashboard in a real browser (Playwright driving Debian's chromium) on a real stack."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from playwright.sync_api import expect

from sandbox.orchestration.home import StackPaths, read_admin_token
from sandbox.payer.keys import load_keypair
from sandbox.payer.sync_client import X402ClientSync

WAIT_MS = 20_000  # conditions, not sleeps: each expect() returns as soon as the page shows it


def pay(info, keypair_path: Path):
    client = X402ClientSync(load_keypair(keypair_path), rpc_url=info.rpc_url)
    try:
        return client.get(f"{info.server_url}/api/premium-content")
    finally:
        client.close()


def set_facilitator_faults(info, faults: list) -> None:
    answer = httpx.post(
        f"{info.facilitator_url}/_sandbox/faults",
        json={"faults": faults},
        headers={"Authorization": f"Bearer {read_admin_token(StackPaths(Path(info.home)))}"},
        timeout=10,
    )
    answer.raise_for_status()


def test_a_payment_and_its_transaction_appear_without_a_reload(
    dashboard_stack, payer_keypair_path, in_browser
) -> None:
    in_browser(lambda browser: paid_payment_appears(browser, dashboard_stack, payer_keypair_path))


def paid_payment_appears(browser, dashboard_stack, payer_keypair_path) -> None:
    page = browser.new_page()
    page.goto(dashboard_stack.dashboard_url)
    expect(page.get_by_test_id("stream")).to_have_text("live", timeout=WAIT_MS)
    expect(page.locator("[data-component=chain]")).to_contain_text("healthy", timeout=WAIT_MS)
    expect(page.locator("[data-wallet=payer-0] [data-testid=usdc]")).to_have_text(
        re.compile(r"^\$\d"), timeout=WAIT_MS
    )
    loads = []
    page.on("load", lambda: loads.append(1))

    paid = pay(dashboard_stack, payer_keypair_path)
    assert paid.status == 200 and paid.receipt is not None
    signature = paid.receipt.transaction

    row = page.locator("[data-testid=payment]", has=page.locator(f"a[title='{signature}']"))
    expect(row).to_have_count(1, timeout=WAIT_MS)
    expect(row.get_by_test_id("outcome")).to_have_text("settled", timeout=WAIT_MS)
    expect(row).to_contain_text("/api/premium-content")
    expect(row).to_contain_text("$0.01")
    assert loads == []  # it came over the event stream, not a reload

    row.get_by_test_id("tx-link").click()
    detail = page.get_by_test_id("detail")
    expect(detail.get_by_test_id("signature")).to_have_text(signature, timeout=WAIT_MS)
    transfer = detail.locator("[data-kind=TransferChecked]")
    expect(transfer).to_contain_text("0.01 (10000 atomic, 6 decimals)")
    expect(transfer).to_contain_text("merchant USDC")
    expect(detail.locator("[data-kind=SetComputeUnitLimit]")).to_have_count(1)
    expect(detail.locator("[data-kind=SetComputeUnitPrice]")).to_have_count(1)
    expect(detail.locator("[data-kind=Memo]")).to_contain_text(paid.requirements.extra["memo"])
    expect(detail).to_contain_text("fee-payer-0")  # the fee payer, linked by name
    page.close()


def test_a_fault_toggled_on_the_page_refuses_the_next_payment_with_its_reason(
    dashboard_stack, payer_keypair_path, in_browser
) -> None:
    in_browser(lambda browser: fault_button_refuses(browser, dashboard_stack, payer_keypair_path))


def fault_button_refuses(browser, dashboard_stack, payer_keypair_path) -> None:
    page = browser.new_page()
    page.goto(dashboard_stack.dashboard_url)
    expect(page.get_by_test_id("stream")).to_have_text("live", timeout=WAIT_MS)
    expect(page.get_by_test_id("facilitator-faults")).to_have_text("none", timeout=WAIT_MS)
    try:
        page.get_by_role("button", name="Refuse every /verify").click()
        expect(page.get_by_test_id("facilitator-faults")).to_contain_text(
            "verify invalid rate 1", timeout=WAIT_MS
        )
        refused = pay(dashboard_stack, payer_keypair_path)
        assert refused.status == 402
        assert refused.rejection == "invalid_exact_svm_payload"

        memo = refused.requirements.extra["memo"]
        row = page.locator(f"[data-testid=payment][data-correlation='{memo}']")
        expect(row.get_by_test_id("reason")).to_have_text(
            "invalid_exact_svm_payload", timeout=WAIT_MS
        )
        expect(row.get_by_test_id("outcome")).not_to_contain_text("settled")
        expect(page.get_by_test_id("rejection").first).to_contain_text(
            "invalid_exact_svm_payload", timeout=WAIT_MS
        )

        page.get_by_role("button", name="Clear").first.click()
        expect(page.get_by_test_id("facilitator-faults")).to_have_text("none", timeout=WAIT_MS)
        assert pay(dashboard_stack, payer_keypair_path).status == 200
    finally:
        set_facilitator_faults(dashboard_stack, [])  # whatever happened on the page
        page.close()
