"""End to end in a real browser (Debian's Chromium through chromedriver and Selenium):
a submitter downloads the template, uploads a return with problems, reads them, uploads
the corrected return; the approver signs off; the unit sees it signed off and builds the
deck, which reads it only now; the admin deactivates an account. Set
DELIVERYPACK_SCREENSHOTS=docs/img to refresh the README's pictures."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pptx import Presentation

from deliverypack.validation.checks import template_id_of
from deliverypack.validation.read import BookValues
from places import ROOT

SAMPLES = ROOT / "sample_returns" / "2003-12"
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
PASSWORD = "correct horse battery staple"
PEOPLE = [("sam.dh@example.gov.uk", "Sam Jones", "DH", "submitter"),
          ("alex.dh@example.gov.uk", "Alex Lee", "DH", "approver"),
          ("ana@unit.example.gov.uk", "Ana Lyst", None, "unit"),
          ("ade@unit.example.gov.uk", "Ade Min", None, "admin")]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not (CHROMIUM and DRIVER),
                       reason="Chromium and chromedriver are not installed "
                              "(apt-get install chromium chromium-driver)"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(*args: str, stdin: str | None = None) -> str:
    r = subprocess.run([sys.executable, "-m", "deliverypack.cli", *args], input=stdin,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A workspace after two sample rounds, round 2003-12's templates issued, accounts
    made with the CLI, and `deliverypack serve` listening on 127.0.0.1."""
    from deliverypack.sample.programme import sample_workspace
    from deliverypack.sample.rounds import from_samples, hold_meeting, run_round
    from deliverypack.templates.issue import issue_returns

    root = tmp_path_factory.mktemp("e2e") / "ws"
    workspace = sample_workspace(root, demo=True)  # the programme of sample_returns/
    for r in ("2002-12", "2003-07"):
        run_round(workspace, r, from_samples("return"), from_samples("assessment"))
    hold_meeting(workspace)
    issue_returns(workspace, "2003-12")
    workspace.ledger.close()
    for email, name, dept, role in PEOPLE:
        cli("users", "add", email, "--name", name, "--role", role, "--password-stdin",
            "-w", str(root), *(["--department", dept] if dept else []), stdin=PASSWORD + "\n")
    port = free_port()
    log = root.parent / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "deliverypack.cli", "serve", "-w",
                                 str(root), "--host", "127.0.0.1", "--port", str(port)],
                                stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):  # bounded: 10 s at most
        try:
            with urllib.request.urlopen(f"{base}/login", timeout=1):
                break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        proc.wait()
        pytest.fail(f"the service did not start: {log.read_text()}")
    yield base, root
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path_factory.mktemp("downloads")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--window-size=1280,900", "--disable-gpu"):
        opts.add_argument(arg)
    opts.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                           "download.prompt_for_download": False})
    driver = webdriver.Chrome(options=opts, service=Service(DRIVER))
    driver.set_page_load_timeout(60)
    driver.downloads = downloads  # type: ignore[attr-defined]
    yield driver
    driver.quit()


def shot(driver, name: str) -> None:
    folder = os.environ.get("DELIVERYPACK_SCREENSHOTS")
    if folder:
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1280, min(max(height + 140, 600), 1800))
        time.sleep(0.3)  # let the page lay itself out at the new size
        driver.save_screenshot(str(Path(folder) / f"service-{name}.png"))
        driver.set_window_size(1280, 900)


def wait_for_file(folder: Path, pattern: str) -> Path:
    for _ in range(200):  # bounded: 20 s at most
        found = [p for p in folder.glob(pattern) if not p.name.endswith(".crdownload")]
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"nothing matching {pattern} was downloaded to {folder}")


def submit(driver, element) -> None:
    """Click something that loads a new page, and wait until it has."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    # A mark on the old page's window goes with it. Asking an old element whether
    # it is stale races the navigation in Chromium ("Node with given id does not
    # belong to the document"), so the wait asks the window instead and lets any
    # driver error mid-navigation mean "not yet".
    driver.execute_script("window.__deliverypackOldPage = true")
    element.click()
    WebDriverWait(driver, 60, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script(
            "return !window.__deliverypackOldPage && document.readyState === 'complete'"))


def sign_in(driver, base: str, email: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{base}/login")
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    submit(driver, driver.find_element(By.ID, "signin"))


def sign_out(driver) -> None:
    from selenium.webdriver.common.by import By

    submit(driver, driver.find_element(By.CSS_SELECTOR, "form.who button"))


def test_a_round_from_template_to_deck_in_the_browser(server, browser):
    from selenium.webdriver.common.by import By

    base, root = server
    d = browser
    d.get(f"{base}/login")
    shot(d, "login")
    sign_in(d, base, "sam.dh@example.gov.uk")
    assert d.current_url.endswith("/returns")
    row = d.find_element(By.CSS_SELECTOR, 'tr[data-round="2003-12"]')
    assert "not started" in row.text
    shot(d, "returns")
    row.find_element(By.CSS_SELECTOR, "a.template").click()
    template = wait_for_file(d.downloads, "DH-2003-12*.xlsx")
    assert template_id_of(BookValues.from_path(template)).startswith("DP-RETURN-DH-2003-12")

    d.find_element(By.ID, "file").send_keys(str(SAMPLES / "DH-2003-12-attempt1.xlsx"))
    submit(d, d.find_element(By.ID, "upload"))
    verdict = d.find_element(By.ID, "verdict").text
    assert verdict.startswith("Rejected: 3 problem(s)")
    problems = [r.text for r in d.find_elements(By.CSS_SELECTOR, "tr.issue-error")]
    assert any(p.startswith("C31 error expected the actual as a percentage")
               and p.endswith("found 'n/a'") for p in problems), problems
    assert any("C32" in p and "'94,5'" in p for p in problems)
    shot(d, "rejected")
    d.find_element(By.ID, "feedback").click()
    feedback = wait_for_file(d.downloads, "DH-2003-12-attempt1.feedback*.xlsx")
    assert load_workbook(feedback).sheetnames[0] == "Problems"

    d.get(f"{base}/returns")
    d.find_element(By.ID, "file").send_keys(str(SAMPLES / "DH-2003-12.xlsx"))
    submit(d, d.find_element(By.ID, "upload"))
    assert d.find_element(By.ID, "verdict").text.startswith("Accepted")
    for box in d.find_elements(By.CSS_SELECTOR, 'input[name^="ack-"]'):
        box.send_keys("Checked with the analyst: the figure is right")
    if d.find_elements(By.ID, "acknowledge"):
        submit(d, d.find_element(By.ID, "acknowledge"))
    submission = d.current_url
    assert "Awaiting your approver" in d.page_source
    assert d.find_element(By.ID, "counts").text.startswith("not yet")
    shot(d, "accepted")
    d.get(f"{base}/returns")
    assert "Counts once your approver signs it off" in d.find_element(
        By.CSS_SELECTOR, 'tr[data-round="2003-12"]').text
    sign_out(d)

    sign_in(d, base, "alex.dh@example.gov.uk")
    d.get(submission)
    submit(d, d.find_element(By.ID, "signoff"))
    assert "by Alex Lee" in d.find_element(By.ID, "signed").text
    sign_out(d)

    sign_in(d, base, "ana@unit.example.gov.uk")
    assert d.current_url.endswith("/unit")
    dh = d.find_element(By.CSS_SELECTOR, 'tr[data-department="DH"]')
    assert "signed off" in dh.text and "Alex Lee" in dh.text
    bis = d.find_element(By.CSS_SELECTOR, 'tr[data-department="BIS"]')
    assert "not started" in bis.text
    shot(d, "dashboard")
    d.find_element(By.ID, "build-deck").click()
    deck = wait_for_file(d.downloads, "stocktake-2003-12*.pptx")
    titles = [s.shapes.title.text for s in Presentation(deck).slides if s.shapes.title]
    assert any("DH1" in t or "A&E" in t for t in titles), titles
    notes = " ".join(s.notes_slide.notes_text_frame.text for s in Presentation(deck).slides
                     if s.has_notes_slide)
    assert "DH-2003-12.xlsx" in notes  # signed off, so the deck reads it

    d.get(f"{base}/unit/framework?round=2003-12")
    cells = [c.text for c in d.find_elements(By.CSS_SELECTOR, "td.rating")]
    assert {"G", "AG", "AR"} & set(cells)
    shot(d, "framework")
    d.get(f"{base}/unit/priorities/DH1?round=2003-12")
    assert d.execute_script("return document.querySelector('img.chart').naturalWidth") > 500
    shot(d, "priority")
    d.get(f"{base}/audit")
    assert "return signed off" in d.page_source
    shot(d, "audit")
    sign_out(d)

    sign_in(d, base, "ade@unit.example.gov.uk")
    assert d.current_url.endswith("/admin/accounts")
    row = d.find_element(By.CSS_SELECTOR, 'tr[data-account="sam.dh@example.gov.uk"]')
    submit(d, row.find_element(By.CSS_SELECTOR, "button.deactivate"))
    assert "sam.dh@example.gov.uk deactivated" in d.find_element(By.ID, "message").text
    row = d.find_element(By.CSS_SELECTOR, 'tr[data-account="sam.dh@example.gov.uk"]')
    assert "deactivated" in row.text
    shot(d, "accounts")
