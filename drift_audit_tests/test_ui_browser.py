"""The Dagster UI in a real browser: dagster-webserver on 127.0.0.1 over the instance where the demo was
materialized, driven in headless Debian chromium by selenium and /usr/bin/chromedriver.

Screenshots go to the test's tmp dir and to `test-artifacts/ui/` (or $DRIFT_AUDIT_ARTIFACTS/ui) for CI.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drift_audit_tests.conftest import REPO

pytestmark = [pytest.mark.services, pytest.mark.e2e]

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1600,1200"]
ASSETS = ["contract_snapshot", "offline_sample", "online_sample", "contract_diff", "drift_deltas", "quality_gates",
          "transformation_audit", "model_impact", "remediation_plan", "audit_report"]
WAIT = 240  # seconds for the code location to load and a page to render on a busy 2-core machine


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def webserver(audited_demo: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        pytest.skip(f"{CHROMIUM} or {CHROMEDRIVER} is absent: deploy/install-system-deps.sh installs both")
    port = _free_port()
    env = {**os.environ, "DAGSTER_HOME": audited_demo["instance"].root_directory,
           "DRIFT_AUDIT_CONFIG": str(audited_demo["config_path"])}
    log = open(tmp_path_factory.mktemp("webserver") / "webserver.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([str(Path(sys.executable).parent / "dagster-webserver"), "-w", str(REPO / "workspace.yaml"),
                             "-h", "127.0.0.1", "-p", str(port)], cwd=REPO, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + WAIT
        while True:
            try:
                with urllib.request.urlopen(f"{url}/server_info", timeout=5) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"dagster-webserver did not start: {Path(log.name).read_text()[-3000:]}")
            time.sleep(1)
        _dismiss_first_visit_dialog(url)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _dismiss_first_visit_dialog(url: str) -> None:
    """Record in the instance that the "Join the Dagster community" dialog was seen, as its Skip button
    does, so it never covers the page (the UI shows it on localhost until then)."""
    body = json.dumps({"query": "mutation SetNuxSeen { setNuxSeen }"}).encode()
    request = urllib.request.Request(f"{url}/graphql", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as resp:
        assert json.loads(resp.read())["data"]["setNuxSeen"] is True


@pytest.fixture()
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _screenshot(driver: Any, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    driver.save_screenshot(str(path))
    keep = Path(os.environ.get("DRIFT_AUDIT_ARTIFACTS") or REPO / "test-artifacts") / "ui"
    keep.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, keep / name)
    print(f"screenshot: {path} (copy: {keep / name})")
    return path


def _wait_text(driver: Any, *needles: str) -> str:
    """The page's text once every needle is in it; on a timeout, a screenshot and the missing needles."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def ready(d: Any) -> str | bool:
        text = d.find_element(By.TAG_NAME, "body").text
        return text if all(n in text for n in needles) else False

    try:
        return str(WebDriverWait(driver, WAIT, poll_frequency=1).until(ready))
    except TimeoutException:
        text = driver.find_element(By.TAG_NAME, "body").text
        shot = _screenshot(driver, Path(tempfile.mkdtemp()), "timeout.png")
        missing = [n for n in needles if n not in text]
        raise AssertionError(f"not shown after {WAIT}s: {missing} (screenshot {shot}); page text: {text[-3000:]}") from None


def _shown_as(name: str, label: str) -> bool:
    """A graph node shows the name, or the name shortened with an ellipsis in the middle."""
    head, sep, tail = label.partition("…")
    return label == name or (bool(sep) and name.startswith(head) and name.endswith(tail))


def test_asset_graph_shows_the_ten_assets(webserver, browser, tmp_path):
    from selenium.webdriver.common.by import By

    browser.get(f"{webserver}/asset-groups")
    _wait_text(browser, *ASSETS, "Materialize all")
    nodes = [e.text for e in browser.find_elements(By.XPATH, "//*[contains(@class, 'AssetNode_assetName')]")]
    shot = _screenshot(browser, tmp_path, "asset_graph.png")
    assert "Join the Dagster community" not in browser.find_element(By.TAG_NAME, "body").text
    assert len(nodes) == len(ASSETS), nodes
    assert all(any(_shown_as(a, n) for n in nodes) for a in ASSETS), nodes
    assert shot.stat().st_size > 10_000


def test_audit_report_materialization_shows_the_report(webserver, browser, tmp_path, audited_demo):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    run = next(r for r in audited_demo["runs"] if r.group == "transactions")
    folder = Path(run.report_dir)
    findings = json.loads((folder / "findings.json").read_text())
    title = (folder / "report.md").read_text().splitlines()[0].removeprefix("# ")
    partition = f"{run.day}|{run.group}"

    browser.get(f"{webserver}/assets/audit_report?view=events&partition={partition.replace('|', '%7C')}")
    text = _wait_text(browser, f"Partition {partition} materialized in run {run.run_id[:8]}", "by_severity")
    for label in ("findings", "by_severity", "files", "inputs", "libraries"):
        assert label in text
    rows = browser.find_elements(By.XPATH, "//tr[td[normalize-space()='findings']]/td[2]")
    assert [r.text.strip() for r in rows][:1] == [str(len(findings))]
    _screenshot(browser, tmp_path, "audit_report_metadata.png")

    # the UI folds JSON of 1,000 characters or more behind [Show JSON]: the file list with its hashes
    link = browser.find_elements(By.XPATH, "//tr[td[normalize-space()='files']]//*[normalize-space()='[Show JSON]']")[-1]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", link)
    link.click()
    text = _wait_text(browser, "findings.json", "report.md")
    digest = hashlib.sha256((folder / "findings.json").read_bytes()).hexdigest()
    assert digest in text
    _screenshot(browser, tmp_path, "audit_report_files.png")
    ActionChains(browser).send_keys(Keys.ESCAPE).perform()

    browser.find_elements(By.XPATH, "//*[normalize-space()='[Show Markdown]']")[-1].click()
    text = _wait_text(browser, title, "Findings")
    summary = (folder / "summary.md").read_text()  # the preview: the executive summary, then the report's start
    assert "Root causes" in summary and "Root causes" in text and "Residual risk" in text
    _screenshot(browser, tmp_path, "audit_report_markdown.png")
