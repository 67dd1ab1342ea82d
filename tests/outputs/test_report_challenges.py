"""The delivery report's numbered challenges carry the rating the unit gave, this round, to
the priority each challenge is tied to: the letters on their fill and the name in words,
with the framework's sentence for that rating beside them, never a kinder one."""

from __future__ import annotations

import json
import re

import pytest
from docx import Document

from deliverypack.foundation.domain import RAG_NAMES
from deliverypack.outputs.delivery_report import CHALLENGE_NAMES, LIKELIHOOD_WORDS, write_report
from deliverypack.outputs.documents import RAG_HEX, RAG_INK
from deliverypack.sample.programme import SEED_CHALLENGE_PRIORITY, SEED_CHALLENGES

KIND_WORDS = ("on course", "on track", "highly likely", "probable")


def _challenge_paragraphs(doc) -> list[tuple[object, str]]:
    """(heading paragraph, the sentence after it) for each numbered challenge."""
    paras = doc.paragraphs
    texts = [p.text for p in paras]
    start = texts.index("Progress on the challenges of the last delivery report")
    end = texts.index("Priorities", start)
    out = []
    for k in range(start + 1, end):
        if re.match(r"\d+\. ", paras[k].text) and "\n" in paras[k].text:
            out.append((paras[k], paras[k + 1].text))
    return out


def _check(workspace, path, round_id: str) -> set[str]:
    doc = Document(path)
    ratings = workspace.ledger.ratings(round_id, "unit")
    stored = {t["seq"]: t for t in workspace.ledger.texts(round_id)
              if t["kind"] == "challenge" and t["department"] == "HO"}
    found = _challenge_paragraphs(doc)
    assert [p.text.split(". ", 1)[0] for p, _ in found] == [str(n) for n in sorted(stored)]
    seen = set()
    for para, sentence in found:
        n = int(para.text.split(".", 1)[0])
        pid = stored[n]["priority_id"]
        assert pid == SEED_CHALLENGE_PRIORITY[n - 1]
        title = SEED_CHALLENGES[n - 1][0]
        assert para.text.startswith(f"{n}. {title}\n")
        like = ratings[(pid, "likelihood")]["value"]
        chall = ratings[(pid, "challenge")]["value"]
        # the letters, on their fill, in the ink that reads on it, and the name in words
        letter = next(r for r in para.runs if r.text.strip() == like)
        assert f'w:fill="{RAG_HEX[like]}"' in letter._r.xml
        assert letter.bold and str(letter.font.color.rgb) == RAG_INK[like]
        rest = para.text.split("\n", 1)[1]
        assert rest.startswith(f"Likelihood of delivery  {like}  {RAG_NAMES[like]}; ")
        assert f"degree of challenge {chall} ({CHALLENGE_NAMES[chall]})" in rest
        assert f"({pid})" in rest
        # the sentence beside it is the framework's for that letter, and no kinder
        assert sentence.endswith(f": {LIKELIHOOD_WORDS[like]}.")
        if like in ("AR", "R"):
            assert not any(w in sentence.lower() for w in KIND_WORDS), sentence
        progress = json.loads(stored[n]["extra"])["progress"]
        assert " ".join(progress.split()) in [p.text for p in doc.paragraphs]
        seen.add(like)
    return seen


def test_each_challenge_heading_carries_the_ledgers_rating(demo):
    workspace, out = demo
    seen = _check(workspace, out["delivery report (Home Office)"], "2003-12")
    assert seen == {"G", "AG"}


def test_a_red_challenge_is_called_highly_problematic(demo, tmp_path):
    """December 2002: most Home Office priorities rated R; the words say so."""
    workspace, _ = demo
    path = write_report(workspace, "2002-12", "HO", target=tmp_path / "r.docx")
    seen = _check(workspace, path, "2002-12")
    assert "R" in seen


@pytest.mark.parametrize("pid, expect", [("", "Not tied to a priority, so not rated."),
                                         ("NOPE", "Not tied to a priority, so not rated.")])
def test_a_challenge_without_a_priority_is_said_to_be_unrated(demo, tmp_path, pid, expect):
    import shutil

    from deliverypack.ledger.workspace import Workspace

    workspace, _ = demo
    root = tmp_path / "ws"
    shutil.copytree(workspace.root, root)
    copy = Workspace.open(root)
    copy.ledger.db.execute("UPDATE texts SET priority_id=? WHERE kind='challenge' AND seq=1 "
                           "AND department='HO'", (pid,))
    copy.ledger.db.commit()
    doc = Document(write_report(copy, "2003-12", "HO", target=tmp_path / "r.docx"))
    head = next(p for p in doc.paragraphs if p.text.startswith("1. Maintain ambition"))
    assert head.text.split("\n", 1)[1] == expect
    assert not any("w:shd" in r._r.xml for r in head.runs)  # no colour without a rating
