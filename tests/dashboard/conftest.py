"""A whole stack with its dashboard, once for this folder, and Debian's chromium for the page."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from sandbox.orchestration.stack import StackConfig, StackInfo, start_stack, stop_stack
from sandbox.processes import free_port, free_port_pair

CHROMIUM = os.environ.get("X402_SANDBOX_CHROMIUM") or shutil.which("chromium") or ""


@pytest.fixture(scope="package")
def dashboard_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackInfo]:
    home = tmp_path_factory.mktemp("dashboard-stack")
    config = StackConfig(
        home=home,
        rpc_port=free_port_pair(),
        facilitator_port=free_port(),
        server_port=free_port(),
        dashboard_port=free_port(),
        slot_ms=0,
        payers=2,
    )
    info = start_stack(config)
    try:
        yield info
    finally:
        stop_stack(home)


@pytest.fixture(scope="package")
def payer_keypair_path(dashboard_stack: StackInfo) -> Path:
    return Path(dashboard_stack.wallet("payer-0").keypair_file)


@pytest.fixture
def in_browser():
    """Runs `scenario(browser)` with headless chromium driven by Playwright (from PyPI; it
    cannot download its own browser here, so it drives Debian's), in a thread of its own:
    Playwright's sync API keeps an event loop running in the thread that starts it, which
    would break every asyncio test after it in the same process.

    .ci/run installs chromium and sets X402_SANDBOX_REQUIRE_BROWSER, so there a missing browser
    fails; elsewhere the browser tests are skipped, saying what to install."""
    if not CHROMIUM:
        message = "Debian's chromium is not installed: apt-get install chromium"
        if os.environ.get("X402_SANDBOX_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)

    def run(scenario):
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=[
                    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync",
                ],
            )  # fmt: skip
            try:
                return scenario(browser)
            finally:
                browser.close()

    def in_thread(scenario):
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="playwright") as pool:
            return pool.submit(run, scenario).result()

    return in_thread
