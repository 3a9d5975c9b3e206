"""The web console in Debian's chromium (headless, driven by Playwright for Python with the
system executable; ``playwright install`` is never run), against a real ``proofqueue
serve``, a real ``proofqueue worker`` and the vendor simulator during an outage.

Skipped only when chromium (or Playwright) is missing outside CI; with ``CI=true`` it fails
instead (``.ci/run`` installs chromium). ``PQ_CONSOLE_SHOTS=DIR`` also copies the
screenshots there (the README's come from ``PQ_CONSOLE_SHOTS=docs``).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from proofqueue import ProofQueue, Settings
from tests.e2e.procs import Worker, set_faults, vendor_sim, wait_for
from tests.e2e.served import serving

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
try:
    from playwright.sync_api import ConsoleMessage, Page, sync_playwright
except ImportError:  # pragma: no cover - the dev extra installs it
    sync_playwright = None  # type: ignore[assignment]

pytestmark = pytest.mark.skipif(
    (CHROMIUM is None or sync_playwright is None) and os.environ.get("CI") != "true",
    reason="needs chromium (apt-get install chromium; .ci/run installs it) and playwright",
)

FAST = {
    "PROOFQUEUE_BREAKER_OPEN_S": "5",  # DEGRADED for 5 s at a time, however often it trips
    "PROOFQUEUE_BREAKER_MAX_OPEN_S": "5",
    "PROOFQUEUE_POLL_S": "0.2",
    "PROOFQUEUE_POLL_CAP_S": "0.5",
}
ORDER = {"target": "0xabc/logo", "params": {"brief": "fox"}}


class Shots:
    """Screenshots into the test's folder (and ``PQ_CONSOLE_SHOTS`` when set)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.extra = os.environ.get("PQ_CONSOLE_SHOTS")

    def take(self, page: Page, name: str, selector: str | None = None) -> Path:
        path = self.folder / f"{name}.png"
        if selector is None:
            page.screenshot(path=str(path), full_page=True)
        else:
            page.locator(selector).screenshot(path=str(path))
        assert path.stat().st_size > 10_000, f"{name}: an empty screenshot"
        if self.extra:
            shutil.copy(path, Path(self.extra) / path.name)
        return path


@pytest.fixture
def page() -> Iterator[tuple[Page, list[str]]]:
    """A headless chromium page and the console errors and page errors it reports."""
    assert CHROMIUM is not None, "chromium is not installed (apt-get install chromium)"
    assert sync_playwright is not None, "playwright is not installed (pip install playwright)"
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            tab = browser.new_page(viewport={"width": 1360, "height": 900})

            def on_console(message: ConsoleMessage) -> None:
                if message.type in ("error", "warning"):
                    errors.append(f"console {message.type}: {message.text}")

            tab.on("console", on_console)
            tab.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
            yield tab, errors
        finally:
            browser.close()


def _api(url: str, bearer: str, method: str, path: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {bearer}"}
    answer = httpx.request(method, f"{url}{path}", headers=headers, timeout=10, **kwargs)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def _state(page: Page) -> str:
    return page.locator("#breaker-state").inner_text(timeout=5000).strip()


def test_the_console_during_an_outage(
    page: tuple[Page, list[str]], sqlite_store: str, tmp_path: Path
) -> None:
    """DEGRADED and the waiting intents show; retry is recorded with the token's name; a
    bulk cancel states how many and cancels exactly that set; then RECOVERING and OK; no
    console error all along; screenshots saved."""
    tab, errors = page
    shots = Shots(tmp_path)
    with ProofQueue(Settings(store=sqlite_store)) as pq:
        alice = pq.create_token("alice", "operator")[1]
        agent = pq.create_token("agent-1", "agent")[1]
        bulk = pq.create_token("bulk-agent", "agent")[1]
    with vendor_sim(tmp_path) as sim:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PROOFQUEUE_")}
        env.update(PROOFQUEUE_STORE=sqlite_store, PROOFQUEUE_VENDOR_URL=sim, **FAST)
        worker = Worker(env, tmp_path / "worker.log")
        try:
            with serving(env, tmp_path / "serve.log") as url:
                set_faults(sim, outage_now=True)
                for n in range(12):
                    _api(url, agent, "POST", "/intents", json={**ORDER, "request_id": f"a-{n}"})
                wait_for(
                    lambda: _api(url, alice, "GET", "/health")["state"] == "DEGRADED",
                    30,
                    "the breaker to trip",
                )
                # Queued while DEGRADED: no attempt reached the vendor, so each may be
                # cancelled at once (an attempt that may have would need a lookup first).
                bulk_ids = [f"b-{n}" for n in range(4)]
                for rid in bulk_ids:
                    _api(url, bulk, "POST", "/intents", json={**ORDER, "request_id": rid})

                tab.goto(f"{url}/console")
                tab.fill("#token", alice)
                tab.click("#login-form button")
                tab.wait_for_selector("#who-name", timeout=10_000)
                assert tab.inner_text("#who-name") == "alice"
                wait_for(lambda: _state(tab) == "DEGRADED", 30, "the page to show DEGRADED")
                rows = tab.locator("#intents tr[data-request-id]")
                wait_for(lambda: rows.count() == 16, 10, "the 16 waiting intents")
                assert "breaker DEGRADED until" in tab.inner_text("#intents")
                tab.wait_for_selector("#workers tr.alive", timeout=10_000)
                shots.take(tab, "console-outage")

                # Retry one intent: recorded with the token's name.
                tab.click('#intents tr[data-request-id="a-3"] button:has-text("retry")')
                tab.wait_for_selector("#flash .ok", timeout=10_000)
                assert "retry recorded by alice" in tab.inner_text("#flash")
                trail = _api(url, alice, "GET", "/intents/a-3")
                assert any(e["fields"].get("operator") == "alice" for e in trail["events"])
                tab.click('#intents tr[data-request-id="a-3"] button.link')
                tab.wait_for_selector("#trail", timeout=10_000)
                assert "operator=alice" in tab.inner_text("#trail")
                assert "proof chain verified" in tab.inner_text("#verified")

                # Bulk cancel of bulk-agent's intents: confirm states 4; an intent queued
                # after the confirmation was shown is not in the set.
                tab.fill('#filters input[name="actor"]', "bulk-agent")
                tab.click('#filters button[type="submit"]')
                wait_for(lambda: rows.count() == 4, 10, "the filtered list")
                tab.click('button:has-text("Cancel all matching")')
                tab.wait_for_selector("#bulk-confirm", timeout=10_000)
                assert tab.inner_text("#bulk-count") == "4"
                _api(url, bulk, "POST", "/intents", json={**ORDER, "request_id": "b-late"})
                tab.fill('#bulk-confirm input[name="reason"]', "vendor outage: drop these")
                shots.take(tab, "console-bulk-confirm", "#bulk-confirm")
                tab.click("#bulk-go")
                tab.wait_for_selector("#bulk-done", timeout=15_000)
                assert "4 done" in tab.inner_text("#bulk-done")
                failed = _api(url, alice, "GET", "/intents?status=FAILED")
                assert sorted(r["request_id"] for r in failed) == bulk_ids
                late = _api(url, alice, "GET", "/intents/b-late")
                assert late["status"] in ("QUEUED", "RETRYING")
                cancelled = _api(url, alice, "GET", "/intents/b-0")["events"][-1]
                assert cancelled["fields"]["operator"] == "alice"
                assert cancelled["fields"]["detail"] == "vendor outage: drop these"

                # The outage ends; slow calls (4 s, still successes) keep each RECOVERING on
                # screen past a refresh (an early OK may trip again on the outage's
                # failures still in the window: the page then shows the next RECOVERING).
                set_faults(sim, outage_now=False, slow_rate=1.0, slow_seconds=4)
                seen: list[str] = []
                deadline = time.monotonic() + 40
                while time.monotonic() < deadline and (not seen or seen[-1] != "OK"):
                    state = _state(tab)
                    if not seen or seen[-1] != state:
                        seen.append(state)
                    time.sleep(0.2)
                set_faults(sim, slow_rate=0.0)
                assert seen[-2:] == ["RECOVERING", "OK"], seen
                tab.click('button.range:has-text("5 min")')
                tab.fill('#filters input[name="actor"]', "")
                tab.select_option('#filters select[name="status"]', "ALL")
                tab.click('#filters button[type="submit"]')
                wait_for(
                    lambda: "SETTLED 13" in tab.inner_text("#intents") and _state(tab) == "OK",
                    40,
                    "the 13 open intents to settle, the breaker OK",
                )
                tab.wait_for_selector("#timeline .band-DEGRADED", timeout=5000)
                shots.take(tab, "console-recovered")
                assert errors == [], errors
        finally:
            assert worker.stop() == 0, (tmp_path / "worker.log").read_text()
