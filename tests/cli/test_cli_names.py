"""Option names say what they take; the old `--template` is refused with its new name."""

from __future__ import annotations

from importlib.metadata import version

import pytest
from typer.testing import CliRunner

from deliverypack.cli import app

runner = CliRunner()


def test_version_prints_the_installed_version():
    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0
    assert r.output.strip() == f"deliverypack {version('deliverypack')}"


@pytest.mark.parametrize("argv, new", [
    (["deck", "--template", "brand.pptx"], "--slide-template"),
    (["minutes", "rec.xlsx", "--template=ours.docx"], "--word-template"),
    (["templates", "-r", "2003-12", "--template", "DFT"], "--foreign"),
    (["ingest", "x.xlsx", "--template", "DFT"], "--foreign"),
    (["validate", "x.xlsx", "--template", "DFT"], "--foreign"),
    (["export-master", "--template", "DFT"], "--foreign"),
])
def test_old_template_option_is_refused_naming_the_new_one(argv, new):
    r = runner.invoke(app, argv)
    assert r.exit_code == 2
    assert f"use {new}" in r.output and "Traceback" not in r.output


@pytest.mark.parametrize("command, option", [
    ("deck", "--slide-template"), ("minutes", "--word-template"),
    ("templates", "--foreign"), ("ingest", "--foreign"), ("validate", "--foreign"),
    ("export-master", "--foreign")])
def test_each_command_offers_its_new_option(command, option):
    r = runner.invoke(app, [command, "--help"])
    assert r.exit_code == 0 and option in r.output and "--template" not in r.output


def test_new_foreign_option_reaches_the_command(workspace):
    r = runner.invoke(app, ["export-master", "--foreign", "NOPE", "-w", str(workspace.root)])
    assert r.exit_code in (1, 2) and "NOPE" in r.output and "Traceback" not in r.output
