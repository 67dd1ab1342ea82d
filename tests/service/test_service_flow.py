"""A department's round on the service: upload, problems, warnings, sign-off; the unit's
dashboard, heat map, priority page and papers."""

from __future__ import annotations

import html
import io
import re
import sqlite3
import zipfile

import matplotlib.pyplot as plt
from openpyxl import Workbook, load_workbook
from pptx import Presentation
from typer.testing import CliRunner

from deliverypack.cli import app as cli
from deliverypack.ledger.workspace import Workspace
from deliverypack.returns.ingest import validate_file
from service_kit import (  # noqa: F401  (fixtures)
    ROUND,
    SAMPLES,
    _service_base,
    app,
    client,
    csrf_of,
    service_root,
    sign_in,
    sign_off,
    upload,
)


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def test_a_rejected_upload_lists_every_problem_by_sheet_and_cell_as_the_cli_does(
        app, service_root):
    bad = service_root.parent / "files" / "DH-2002-12-broken.xlsx"
    workspace = Workspace.open(service_root)
    expected, _ = validate_file(workspace, bad)
    workspace.ledger.close()
    assert expected.errors
    c = client(app)
    csrf = sign_in(c, "dh-submitter")
    r = upload(c, csrf, bad)
    assert r.status_code == 303
    page = c.get(r.headers["location"])
    body = text_of(page.text)
    assert "Rejected" in body
    for issue in expected.issues:
        assert f"<h2>{issue.sheet}</h2>" in html.unescape(page.text)
        assert issue.cell in body and issue.message in body
    fb = c.get(r.headers["location"] + "/feedback")
    assert fb.status_code == 200
    wb = load_workbook(io.BytesIO(fb.content))
    assert wb.sheetnames[0] == "Problems"
    problems = " ".join(str(v) for row in wb["Problems"].iter_rows(values_only=True)
                        for v in row if v)
    assert expected.errors[0].cell in problems


def test_warnings_are_acknowledged_then_the_approver_signs_off_and_it_counts(
        app, service_root):
    warn = service_root.parent / "files" / "DH-2002-12-warning.xlsx"
    c = client(app)
    csrf = sign_in(c, "dh-submitter")
    r = upload(c, csrf, warn)
    sub_url = r.headers["location"]
    sid = int(sub_url.rsplit("/", 1)[1])
    page = c.get(sub_url).text
    assert "Accepted" in page and "warning" in page
    nos = re.findall(r'name="ack-(\d+)"', page)
    assert nos, "a warning to acknowledge"

    a = client(app)
    a_csrf = sign_in(a, "dh-approver")
    early = a.post(f"{sub_url}/signoff", data={"csrf": a_csrf})
    assert early.status_code == 409 and "still need a comment" in early.text

    done = c.post(f"{sub_url}/acknowledge",
                  data={"csrf": csrf, **{f"ack-{n}": "Typed as text; value is right"
                                         for n in nos}})
    assert done.status_code == 303
    assert "Typed as text; value is right" in c.get(sub_url).text
    assert c.post(f"{sub_url}/signoff", data={"csrf": csrf}).status_code == 403  # submitter

    assert a.post(f"{sub_url}/signoff", data={"csrf": a_csrf}).status_code == 303
    db = sqlite3.connect(service_root / "ledger.sqlite")
    who = db.execute("SELECT a.email, s.round, s.department FROM service_signoffs s JOIN "
                     "service_accounts a ON a.id=s.account_id WHERE submission_id=?",
                     (sid,)).fetchone()
    assert who == ("alex.dh@example.gov.uk", ROUND, "DH")
    uploader = db.execute("SELECT a.email FROM service_uploads u JOIN service_accounts a ON "
                          "a.id=u.account_id WHERE submission_id=?", (sid,)).fetchone()
    assert uploader == ("sam.dh@example.gov.uk",)

    u = client(app)
    sign_in(u, "unit")
    dash = u.get(f"/unit?round={ROUND}").text
    row = re.search(r'<tr data-department="DH">(.*?)</tr>', dash, re.S).group(1)
    assert "signed off" in row and "Alex Dh" in row
    ho = re.search(r'<tr data-department="HO">(.*?)</tr>', dash, re.S).group(1)
    assert "not started" in ho


def test_the_dashboard_shows_each_state(app, service_root):
    files = service_root.parent / "files"
    sub = client(app)
    csrf = sign_in(sub, "dh-submitter")
    upload(sub, csrf, files / "DH-2002-12-broken.xlsx")
    ho = client(app)
    upload(ho, sign_in(ho, "ho-submitter"), SAMPLES / "HO-2002-12.xlsx")
    u = client(app)
    sign_in(u, "unit")
    dash = u.get(f"/unit?round={ROUND}").text

    def state(dept: str) -> str:
        row = re.search(rf'<tr data-department="{dept}">(.*?)</tr>', dash, re.S).group(1)
        return re.search(r'class="state[^"]*">([^<]+)<', row).group(1)
    # the sample rounds fell due in 2003, so an unfinished return is late today
    assert state("DH") == "uploaded with errors, late"
    assert state("HO") == "awaiting sign-off, late"
    assert state("DfES") == "not started, late"


def test_another_departments_return_is_refused_and_not_kept(app, service_root):
    c = client(app)
    csrf = sign_in(c, "dh-submitter")
    r = upload(c, csrf, SAMPLES / "HO-2002-12.xlsx")
    assert r.status_code == 403 and "not a DH return" in r.text
    db = sqlite3.connect(service_root / "ledger.sqlite")
    assert db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 0
    assert not list((service_root / "inbox" / "service").rglob("*.xlsx"))


def test_the_template_download_is_the_departments_own_prefilled_return(app, service_root):
    c = client(app)
    sign_in(c, "ho-submitter")
    r = c.get(f"/returns/{ROUND}/template")
    assert r.status_code == 200
    assert r.content == (service_root / "outbox" / ROUND / f"HO-{ROUND}.xlsx").read_bytes()
    wb = load_workbook(io.BytesIO(r.content))
    assert "HO" in str(wb.worksheets[1]["B3"].value or "") or any(
        "HO" in str(c.value) for row in wb["Cover"].iter_rows() for c in row if c.value)


def test_unit_pages_heat_map_priority_chart_and_papers(app, service_root):
    ho = client(app)
    sent = upload(ho, sign_in(ho, "ho-submitter"), SAMPLES / "HO-2002-12.xlsx")
    assert sign_off(app, "ho-approver", sent.headers["location"]).status_code == 303
    u = client(app)
    csrf = sign_in(u, "unit")
    fw = u.get(f"/unit/framework?round={ROUND}")
    assert fw.status_code == 200 and 'id="framework"' in fw.text
    pids = re.findall(r'/unit/priorities/([A-Za-z0-9]+)\?', fw.text)
    assert pids
    ho_pid = "HO2"  # a priority with a measure (HO1 has none)
    assert ho_pid in pids
    page = u.get(f"/unit/priorities/{ho_pid}?round={ROUND}")
    assert page.status_code == 200
    assert "HO-2002-12.xlsx, sheet" in text_of(page.text)  # provenance of each actual
    chart_url = html.unescape(re.search(r'<img src="([^"]+\.png[^"]*)"', page.text).group(1))
    png = u.get(chart_url)
    assert png.headers["content-type"] == "image/png"
    pixels = plt.imread(io.BytesIO(png.content))
    assert pixels.shape[0] > 300 and pixels.shape[1] > 800

    r = u.post("/unit/build", data={"csrf": csrf, "what": "master", "round": ROUND})
    assert r.status_code == 303 and r.headers["location"] == f"/unit/outputs/master-{ROUND}.xlsx"
    wb = load_workbook(io.BytesIO(u.get(r.headers["location"]).content))
    assert "Assessment framework" in wb.sheetnames
    r = u.post("/unit/build", data={"csrf": csrf, "what": "deck", "round": ROUND})
    deck = Presentation(io.BytesIO(u.get(r.headers["location"]).content))
    assert len(deck.slides) > 3
    r = u.post("/unit/build", data={"csrf": csrf, "what": "reports", "round": ROUND})
    names = zipfile.ZipFile(io.BytesIO(u.get(r.headers["location"]).content)).namelist()
    assert f"delivery-report-HO-{ROUND}.docx" in names
    log = text_of(u.get("/audit").text)
    assert "deck built" in log and "return uploaded: accepted" in log


def test_a_return_that_came_by_email_counts_with_the_sign_off_on_its_cover(app, service_root):
    r = CliRunner().invoke(cli, ["ingest", str(SAMPLES / "HO-2002-12.xlsx"), "-w",
                                 str(service_root)])
    assert r.exit_code == 0, r.output
    u = client(app)
    sign_in(u, "unit")
    dash = u.get(f"/unit?round={ROUND}").text
    row = re.search(r'<tr data-department="HO">(.*?)</tr>', dash, re.S).group(1)
    assert "signed off" in row and "(on the return&#39;s cover)" in row


def test_a_workbook_that_is_no_return_gets_its_problems_not_a_missing_page(app, tmp_path):
    path = tmp_path / "DH-notes.xlsx"
    wb = Workbook()
    wb.active["A1"] = "our own notes"
    wb.save(path)
    c = client(app)
    r = upload(c, sign_in(c, "dh-submitter"), path)
    assert r.status_code == 303
    page = c.get(r.headers["location"])
    assert page.status_code == 200
    body = text_of(page.text)
    assert "Rejected" in body and "a workbook issued by this workspace" in body
    ho = client(app)
    sign_in(ho, "ho-submitter")
    assert ho.get(r.headers["location"]).status_code == 403  # still the DH's own


def test_the_pages_say_whether_a_round_is_open_or_closed(app, service_root):
    r = CliRunner().invoke(cli, ["round", "close", ROUND, "--reason", "deck published",
                                 "-w", str(service_root)])
    assert r.exit_code == 0, r.output
    c = client(app)
    sign_in(c, "dh-submitter")
    row = re.search(rf'<tr data-round="{ROUND}">(.*?)</tr>', c.get("/returns").text,
                    re.S).group(1)
    assert "closed" in row and "unless the unit reopens it" in row
    u = client(app)
    sign_in(u, "unit")
    summary = text_of(re.search(r'<p class="summary".*?</p>', u.get(f"/unit?round={ROUND}").text,
                                re.S).group(0))
    assert "closed" in summary and "deck published" in summary
