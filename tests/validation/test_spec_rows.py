"""Rows of a spec are typed (SpecRow), block kinds an enum; a spec stored before either
existed (dict rows with '_input', '_type', ... keys) loads and reads a return the same."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import openpyxl

from deliverypack.templates.build import SPEC_SHEET
from deliverypack.validation.checks import check_book
from deliverypack.validation.layout import (
    BlockKind,
    ColumnSpec,
    SpecRow,
    WorkbookSpec,
    cell_allowed,
    cell_is_input,
    cell_required,
    cell_type,
)
from deliverypack.validation.read import BookValues
from places import ROOT

SAMPLE = ROOT / "sample_returns" / "2002-12" / "DH-2002-12.xlsx"


def _stored_spec(path: Path) -> str:
    """The spec JSON a committed return carries, as written before rows were models."""
    wb = openpyxl.load_workbook(path, read_only=True)
    text = "".join(str(r[0]) for r in wb[SPEC_SHEET].iter_rows(values_only=True)
                   if r and isinstance(r[0], str))
    wb.close()
    return text


def _new_form(stored: str) -> str:
    """The same spec with every row in the model's own form (values and named overrides)."""
    data = json.loads(stored)
    names = {"_input": "inputs", "_type": "types", "_allowed": "allowed",
             "_required": "required", "_locked": "locked"}
    for sheet in data["sheets"]:
        for block in sheet["blocks"]:
            block["rows"] = [{"values": {k: v for k, v in row.items() if k[0] != "_"},
                              **{names[k]: v for k, v in row.items() if k[0] == "_"}}
                             for row in block["rows"]]
    return json.dumps(data)


def test_an_old_form_row_loads_into_typed_overrides():
    row = SpecRow.model_validate({"field": "Sign-off date", "value": None,
                                  "_input": ["value"], "_type": {"value": "date"},
                                  "_required": ["value"]})
    assert row.values == {"field": "Sign-off date", "value": None}
    assert (row.inputs, row.types, row.required, row.locked) == \
        (["value"], {"value": "date"}, ["value"], [])
    col = ColumnSpec(key="value", header="Value", role="locked")
    assert cell_is_input(col, row) and cell_required(col, row)
    assert cell_type(None, col, row) == "date"  # type: ignore[arg-type]
    # stored back in the same compact form, key for key
    assert row.model_dump() == {"field": "Sign-off date", "value": None,
                                "_input": ["value"], "_type": {"value": "date"},
                                "_required": ["value"]}
    locked = SpecRow.model_validate({"id": "M1", "status": "Complete",
                                     "_locked": ["status"]})
    status = ColumnSpec(key="status", header="Status", role="input", allowed=["x"])
    assert not cell_is_input(status, locked)
    assert cell_allowed(None, status, {}) == ["x"]  # type: ignore[arg-type]


def test_a_stored_spec_loads_typed_and_dumps_byte_for_byte():
    stored = _stored_spec(SAMPLE)
    spec = WorkbookSpec.model_validate_json(stored)
    kinds = {block.kind for _, block in spec.blocks()}
    assert all(isinstance(k, BlockKind) for k in kinds)
    assert {BlockKind.COVER, BlockKind.TRAJ, BlockKind.ASSESS, BlockKind.MILES} <= kinds
    traj = next(b for _, b in spec.blocks() if b.kind == BlockKind.TRAJ)
    assert any(r.inputs == ["actual", "comment"] for r in traj.rows)
    assess = next(b for _, b in spec.blocks() if b.kind == "assess")  # equal to its string
    assert any(r.allowed.get("now") for r in assess.rows)
    # the template id is a hash of this text: it must not move when a spec is re-stored
    assert spec.model_dump_json() == stored


def test_old_and_new_forms_read_a_return_the_same():
    stored = _stored_spec(SAMPLE)
    old = WorkbookSpec.model_validate_json(stored)
    new = WorkbookSpec.model_validate_json(_new_form(stored))
    assert new == old
    data = SAMPLE.read_bytes()
    reads = []
    for spec in (old, new):
        book = BookValues.from_bytes(data, zipfile.ZipFile(SAMPLE))
        issues, read = check_book(book, spec, None, SAMPLE.name)
        reads.append(([(i.code, i.sheet, i.cell) for i in issues],
                      [(b.spec.name, [(r.key, r.values, r.r) for r in b.rows])
                       for b in read.blocks]))
    assert reads[0] == reads[1]
    issues, blocks = reads[0]
    assert not [i for i in issues if i[0] in ("missing-row", "locked-cell-changed")]
    traj = [rows for name, rows in blocks if name.endswith("_traj")]
    assert traj and any(values.get("actual") is not None for _, values, _ in traj[0])


def test_every_kind_of_table_is_extracted_or_kept_by_its_own_step():
    """One table from block kind to what it adds to the ledger: a kind left out of it is
    one whose rows the ledger keeps elsewhere (a meeting's own step, the revisions)."""
    from deliverypack.returns.ingest import EXTRACTORS

    elsewhere = {BlockKind.COVER, BlockKind.REVISIONS, BlockKind.ATTENDANCE,
                 BlockKind.AGENDA, BlockKind.DISCUSSION, BlockKind.DECISIONS,
                 BlockKind.NEW_ACTIONS, BlockKind.DISTRIBUTION}
    assert set(EXTRACTORS) | elsewhere == set(BlockKind)
    assert not set(EXTRACTORS) & elsewhere


def test_a_return_read_through_an_old_form_spec_gives_its_content():
    from deliverypack.returns.ingest import content_of

    spec = WorkbookSpec.model_validate_json(_stored_spec(SAMPLE))
    book = BookValues.from_bytes(SAMPLE.read_bytes(), zipfile.ZipFile(SAMPLE))
    _, read = check_book(book, spec, None, SAMPLE.name)
    content = content_of(read)
    assert {v[3] for v in content.values} >= {"actual", "forecast"}
    assert {r[1] for r in content.ratings} == {"self"}
    assert content.milestones and all(m[4] for m in content.milestones)  # each with its sheet
    kinds = {t[2] for t in content.texts}
    assert "narrative" in kinds or "comment" in kinds


def test_code_written_for_dict_rows_still_reads_an_override_by_its_stored_key():
    row = SpecRow.model_validate({"period": "2002-12", "_input": ["actual"]})
    assert row.get("_input", []) == ["actual"] == row.inputs
    assert row.get("_locked", []) == [] and row.get("period") == "2002-12"
    assert row["_input"] == ["actual"]
    assert "period" in row and "_input" not in row and row["period"] == "2002-12"
