"""Fixtures and helpers for the collection service's tests: a sample workspace with round
2002-12's templates issued, an account per role, and a signed-in test client."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from conftest import block, spec_of
from deliverypack.cli import app as cli
from deliverypack.sample.filler import fill_workbook
from deliverypack.sample.programme import sample_workspace
from deliverypack.service.app import create_app
from deliverypack.service.engine import Engine
from deliverypack.service.ops import add_user
from deliverypack.templates.issue import issue_returns
from places import ROOT

SAMPLES = ROOT / "sample_returns" / "2002-12"
ROUND = "2002-12"
PASSWORD = "correct horse battery staple"
PEOPLE = {  # who: (e-mail, department, role)
    "dh-submitter": ("sam.dh@example.gov.uk", "DH", "submitter"),
    "dh-approver": ("alex.dh@example.gov.uk", "DH", "approver"),
    "ho-submitter": ("sam.ho@example.gov.uk", "HO", "submitter"),
    "ho-approver": ("alex.ho@example.gov.uk", "HO", "approver"),
    "unit": ("analyst@unit.example.gov.uk", None, "unit"),
    "admin": ("admin@unit.example.gov.uk", None, "admin"),
}
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def broken_return(workspace, dept: str, target: Path, value: object = "n/a") -> Path:
    """The department's 2002-12 return with one actual typed as `value`."""
    template = workspace.outbox(ROUND) / f"{dept}-{ROUND}.xlsx"
    spec = spec_of(workspace, template)
    traj = block(spec, "traj")
    i = next(k for k, r in enumerate(traj.rows) if "actual" in r.inputs)
    return fill_workbook(template, spec, workspace.register, target,
                         overrides={(traj.name, i, "actual"): value})


@pytest.fixture(scope="session")
def _service_base(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("service") / "ws"
    workspace = sample_workspace(root)
    issue_returns(workspace, ROUND)
    files = root.parent / "files"
    files.mkdir()
    broken_return(workspace, "DH", files / "DH-2002-12-broken.xlsx")
    broken_return(workspace, "DH", files / "DH-2002-12-warning.xlsx", value="0.945")
    broken_return(workspace, "HO", files / "HO-2002-12-broken.xlsx")
    workspace.ledger.close()
    engine = Engine(root)
    for email, dept, role in PEOPLE.values():
        add_user(engine, email, email.split("@")[0].replace(".", " ").title(), dept, role,
                 password=PASSWORD)
    engine.close()
    return root


@pytest.fixture
def service_root(_service_base, tmp_path) -> Path:
    """A fresh copy of the service's workspace for one test."""
    root = tmp_path / "ws"
    shutil.copytree(_service_base, root)
    shutil.copytree(_service_base.parent / "files", tmp_path / "files")
    return root


@pytest.fixture
def app(service_root) -> Iterator:
    application = create_app(service_root, max_upload_bytes=2 * 1024 * 1024)
    yield application


def client(app) -> TestClient:
    """A browser without cookies (https, so the Secure cookies are sent back)."""
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


def csrf_of(html: str) -> str:
    m = CSRF.search(html)
    assert m, "no CSRF token on the page"
    return m.group(1)


def log_in(c: TestClient, email: str, password: str = PASSWORD, next_: str = ""):
    """Post the sign-in form as a browser does (the form's CSRF token first); the answer."""
    page = c.get("/login")
    return c.post("/login", data={"csrf": csrf_of(page.text), "email": email,
                                  "password": password, "next": next_})


def sign_in(c: TestClient, who: str, next_: str = "") -> str:
    """Sign in as one of PEOPLE; the session's CSRF token."""
    r = log_in(c, PEOPLE[who][0], next_=next_)
    assert r.status_code == 303, r.text
    return csrf_of(c.get("/returns" if PEOPLE[who][2] in ("submitter", "approver")
                         else "/audit").text)


def upload(c: TestClient, csrf: str, path: Path):
    return c.post("/returns/upload", data={"csrf": csrf},
                  files={"file": (path.name, path.read_bytes())})


def sign_off(app, who: str, submission_url: str):
    """The approver `who` signs off the submission at `submission_url`."""
    a = client(app)
    sign_in(a, who)
    return a.post(f"{submission_url}/signoff", data={"csrf": csrf_of(a.get(submission_url).text)})


def cli_run(root: Path, *args: str, stdin: str | None = None) -> str:
    """Run a deliverypack command on the workspace `root`; what it printed (it must work)."""
    r = CliRunner().invoke(cli, [*args, "-w", str(root)], input=stdin)
    assert r.exit_code == 0, r.output
    return r.stdout
