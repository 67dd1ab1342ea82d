"""Shared fixtures: a sample workspace with a round's templates issued, and helpers to fill,
break and re-open workbooks. Real data is read from ../shared (skipped where absent)."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from deliverypack.ledger.workspace import Workspace
from deliverypack.sample.filler import fill_workbook
from deliverypack.sample.programme import sample_workspace
from deliverypack.templates.issue import issue_returns
from deliverypack.validation.checks import template_id_of
from deliverypack.validation.read import BookValues
from places import FIXTURES, REALDATA, ROOT, SHARED  # noqa: F401  (fixtures' paths, used by tests)

IN_CI = os.environ.get("CI", "").lower() in ("true", "1", "yes")


def needs_shared(path: Path) -> pytest.MarkDecorator:
    """For tests on the real fixtures in ../shared: skipped with the reason in the summary
    where ../shared is absent (a clone elsewhere), but a failure under CI (CI=true) when
    ../shared is there and the file is not: data moved or renamed must not pass quietly."""
    return pytest.mark.needs_shared(path)


def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("needs_shared"):
        path = Path(mark.args[0])
        if not path.exists():
            reason = f"{path} not present: clone beside ../shared to run this test"
            if IN_CI and SHARED.is_dir():
                pytest.fail(f"{reason}; CI must run it", pytrace=False)
            pytest.skip(reason)


@pytest.fixture(scope="session")
def _base_ws(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("base") / "ws"
    workspace = sample_workspace(root)
    issue_returns(workspace, "2002-12")
    workspace.ledger.close()
    return root


@pytest.fixture
def workspace(_base_ws, tmp_path) -> Workspace:
    """A fresh sample workspace with round 2002-12's templates issued."""
    root = tmp_path / "ws"
    shutil.copytree(_base_ws, root)
    return Workspace.open(root)


def spec_of(workspace: Workspace, path: Path):
    return workspace.ledger.template(template_id_of(BookValues.from_path(path)))


@pytest.fixture
def filled(workspace, tmp_path):
    """fill(dept, overrides=None, name=None) -> a filled return for round 2002-12."""
    def fill(dept: str = "DH", overrides=None, name: str | None = None, round_id="2002-12"):
        template = workspace.outbox(round_id) / f"{dept}-{round_id}.xlsx"
        target = tmp_path / (name or f"{dept}-{round_id}.xlsx")
        return fill_workbook(template, spec_of(workspace, template), workspace.register, target,
                             overrides=overrides)
    return fill


def block(spec, kind: str, index: int = 0):
    return [b for _, b in spec.blocks() if b.kind == kind][index]


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def soffice_convert(src: Path, fmt: str, outdir: Path) -> Path:
    """Convert with LibreOffice in its own profile (a shared profile makes a second
    process exit 0 and write nothing)."""
    profile = outdir / f"lo-profile-{uuid.uuid4().hex}"
    outdir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [soffice(), f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
         "--convert-to", fmt, "--outdir", str(outdir), str(src)],
        check=True, capture_output=True, timeout=180, env={**os.environ, "HOME": str(outdir)})
    ext = fmt.split(":")[0]
    out = outdir / f"{src.stem}.{ext}"
    assert out.exists(), f"LibreOffice wrote nothing for {src}"
    return out


needs_soffice = pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) not "
                                   "installed; CI installs it")


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """The whole demo flow, once per session: (workspace, {label: output path})."""
    from rich.console import Console

    from deliverypack.demo import run_demo

    root = tmp_path_factory.mktemp("demo") / "ws"
    outputs = run_demo(root, Console(quiet=True))
    return Workspace.open(root), outputs


@pytest.fixture(scope="session")
def demo_ws(demo) -> Workspace:
    return demo[0]


@pytest.fixture
def demo_copy(demo, tmp_path) -> Workspace:
    """A private copy of the demo workspace, for tests that change the ledger."""
    root = tmp_path / "ws"
    shutil.copytree(demo[0].root, root)
    return Workspace.open(root)
