"""Only a signed-off return counts: a return uploaded to the service stays out of the papers
(master, deck, delivery report) until its approver signs it off, and status and the returns
log say it awaits sign-off; a later upload waits likewise while the signed-off one counts.
A return e-mailed and ingested counts on the sign-off on its cover, as before."""

from __future__ import annotations

import json
import re

from docx import Document
from openpyxl import load_workbook
from pptx import Presentation

from deliverypack.ledger.signoff import awaiting_signoff, counting, counts
from deliverypack.ledger.workspace import Workspace
from service_kit import (  # noqa: F401  (fixtures)
    ROUND,
    SAMPLES,
    _service_base,
    app,
    broken_return,
    cli_run,
    client,
    service_root,
    sign_in,
    sign_off,
    upload,
)

FILE = "HO-2002-12.xlsx"
ACTION = "ST-0212-02"  # open in the register; the HO return says "in progress"


def papers(root) -> dict[str, str]:
    """Build the master, the deck and the Home Office's delivery report; what each says."""
    cli_run(root, "master", "--round", ROUND)
    cli_run(root, "deck", "--round", ROUND)
    cli_run(root, "report", "--round", ROUND)
    out = root / "outputs"
    wb = load_workbook(out / f"master-{ROUND}.xlsx")
    log = {r[1]: r for r in wb["Returns log"].iter_rows(values_only=True) if r[0] == ROUND}
    tracker = {r[0]: r for r in wb["Actions tracker"].iter_rows(values_only=True)}
    deck = Presentation(out / f"stocktake-{ROUND}.pptx")
    doc = Document(out / f"delivery-report-HO-{ROUND}.docx")
    return {
        "trajectories": " ".join(str(v) for row in wb["Trajectories"].iter_rows(
            values_only=True) for v in row if v is not None),
        "log status": log["HO"][2], "log note": log["HO"][8] or "",
        "notes": " ".join(s.notes_slide.notes_text_frame.text for s in deck.slides
                          if s.has_notes_slide),
        "report": " ".join(p.text for p in doc.paragraphs),
        "action": " ".join(str(v) for v in tracker[ACTION] if v is not None),
    }


def status_of(root, dept: str = "HO") -> dict:
    return next(s for s in json.loads(cli_run(root, "status", "--round", ROUND, "--json"))[ROUND]
                if s["department"] == dept)


def test_an_upload_counts_in_the_papers_only_once_signed_off(app, service_root):
    ho = client(app)
    sent = upload(ho, sign_in(ho, "ho-submitter"), SAMPLES / FILE)
    sub = sent.headers["location"]

    before = papers(service_root)
    assert FILE not in before["trajectories"] and FILE not in before["notes"]
    assert "from the Home Office return" not in before["report"]
    assert before["log status"] == "awaiting sign-off"
    assert "open" in before["action"] and "in progress" not in before["action"]
    workspace = Workspace.open(service_root)
    assert workspace.ledger.action_updates(ACTION) == []  # its update is held back too
    workspace.ledger.close()
    assert f"{FILE} was uploaded to the collection service and awaits the approver's " \
           "sign-off; until then no return counts" in before["log note"]
    st = status_of(service_root)
    assert st["status"] == "awaiting sign-off" and st["file"] == FILE
    lines = [ln.split("│") for ln in cli_run(service_root, "status", "--round", ROUND).splitlines()
             if ln.startswith("│")]
    ho = lines[:next(i for i, c in enumerate(lines) if c[1].strip() == "DH")]
    assert " ".join(c[2].strip() for c in ho).strip() == "awaiting sign-off"
    assert "awaits the approver's sign-off" in " ".join(c[6].strip() for c in ho)

    assert sign_off(app, "ho-approver", sub).status_code == 303
    after = papers(service_root)
    assert FILE in after["trajectories"]
    assert FILE in after["notes"]
    assert "from the Home Office return" in after["report"]
    assert "in progress" in after["action"]
    workspace = Workspace.open(service_root)
    assert [u["status"] for u in workspace.ledger.action_updates(ACTION)] == ["in progress"]
    workspace.ledger.close()
    assert after["log status"] == "accepted" and after["log note"] == ""
    assert status_of(service_root)["status"] == "accepted"


def test_a_later_upload_waits_while_the_signed_off_return_counts(app, service_root):
    ho = client(app)
    csrf = sign_in(ho, "ho-submitter")
    first = upload(ho, csrf, SAMPLES / FILE).headers["location"]
    assert sign_off(app, "ho-approver", first).status_code == 303
    workspace = Workspace.open(service_root)
    newer = broken_return(workspace, "HO", service_root.parent / "files" / "HO-2002-12-v2.xlsx",
                          value=4321)
    workspace.ledger.close()
    second = upload(ho, csrf, newer).headers["location"]
    assert "Accepted" in ho.get(second).text

    after_upload = papers(service_root)
    assert FILE in after_upload["notes"] and newer.name not in after_upload["notes"]
    assert after_upload["log status"] == "awaiting sign-off"
    assert f"until then {FILE} (received" in after_upload["log note"]
    page = ho.get(second).text
    assert "not yet: it counts once the approver signs it off" in page and FILE in page
    u = client(app)
    sign_in(u, "unit")
    row = re.search(r'<tr data-department="HO">(.*?)</tr>', u.get(f"/unit?round={ROUND}").text,
                    re.S).group(1)
    assert "awaiting sign-off" in row and f">{FILE}</a> counts" in row

    assert sign_off(app, "ho-approver", second).status_code == 303
    signed = papers(service_root)
    assert newer.name in signed["notes"] and FILE not in signed["notes"]
    assert signed["log status"] == "accepted"
    workspace = Workspace.open(service_root)
    values = workspace.ledger.values(field="actual")
    assert {r["file_name"] for r in values if r["department"] == "HO"} == {newer.name}
    assert 4321 in {r["value"] for r in values if r["department"] == "HO"}
    workspace.ledger.close()


def test_an_emailed_return_counts_on_its_cover_while_the_service_is_in_use(app, service_root):
    dh = client(app)
    upload(dh, sign_in(dh, "dh-submitter"), SAMPLES / "DH-2002-12.xlsx")  # awaits sign-off
    cli_run(service_root, "ingest", str(SAMPLES / FILE))
    assert status_of(service_root)["status"] == "accepted"
    assert status_of(service_root, "DH")["status"] == "awaiting sign-off"
    workspace = Workspace.open(service_root)
    got = {r["department"] for r in workspace.ledger.values(field="actual")}
    assert "HO" in got and "DH" not in got
    workspace.ledger.close()


def test_the_sql_and_the_python_reading_of_the_rule_agree(app, service_root):
    """Every department: the submission the papers read is the one status reports."""
    ho, dh = client(app), client(app)
    h = sign_in(ho, "ho-submitter")
    first = upload(ho, h, SAMPLES / FILE).headers["location"]
    sign_off(app, "ho-approver", first)
    workspace = Workspace.open(service_root)
    v2 = broken_return(workspace, "HO", service_root.parent / "files" / "HO-v2.xlsx", value=4321)
    workspace.ledger.close()
    upload(ho, h, v2)
    upload(dh, sign_in(dh, "dh-submitter"), SAMPLES / "DH-2002-12.xlsx")
    workspace = Workspace.open(service_root)
    db = workspace.ledger.db
    by_sql = {r["department"]: r["id"] for r in db.execute(
        f"SELECT * FROM submissions s WHERE {counts(db)}")}
    awaiting = awaiting_signoff(db)
    subs = db.execute("SELECT * FROM submissions ORDER BY id").fetchall()
    by_python = {}
    for dept in {s["department"] for s in subs}:
        c = counting([s for s in subs if s["department"] == dept], awaiting)
        if c is not None:
            by_python[dept] = c["id"]
    assert by_sql == by_python == {"HO": int(first.rsplit("/", 1)[1])}
    workspace.ledger.close()
