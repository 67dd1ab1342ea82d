"""Build the Word templates in document_templates/ (minutes, agenda pack, delivery report).

They are ordinary .docx files with Jinja tags (docxtpl), so the unit's staff can change
wording and branding in Word. A user's own template with the same style names and tags
works in their place. Run `python -m deliverypack.outputs.word_templates` to rebuild them.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from ..foundation.resources import shipped

FOLDER = shipped("document_templates")
NAVY = RGBColor(0x1F, 0x38, 0x64)


def _base(landscape: bool = False) -> DocxDocument:
    doc = Document()
    sec = doc.sections[0]
    if landscape:
        sec.orientation = WD_ORIENT.LANDSCAPE
        sec.page_width, sec.page_height = Cm(29.7), Cm(21.0)
    else:
        sec.page_width, sec.page_height = Cm(21.0), Cm(29.7)
    for side in ("left_margin", "right_margin"):
        setattr(sec, side, Cm(2.0))
    sec.top_margin, sec.bottom_margin = Cm(2.0), Cm(1.8)
    styles = doc.styles
    normal = styles["Normal"]
    normal.font.name, normal.font.size = "Arial", Pt(11)
    normal.paragraph_format.space_after = Pt(6)
    for name, size in (("Title", 20), ("Heading 1", 15), ("Heading 2", 12.5)):
        st = styles[name]
        st.font.name, st.font.size, st.font.bold = "Arial", Pt(size), True
        st.font.color.rgb = NAVY
    # protective marking top and bottom, page numbers in the footer
    for part in (sec.header, sec.footer):
        p = part.paragraphs[0]
        p.text = "{{ marking }}"
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.runs[0].font.bold = True
        p.runs[0].font.size = Pt(10)
    p = sec.footer.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    run = p.add_run("Page ")
    run.font.size = Pt(9)
    _field(p, "PAGE")
    return doc


def _field(paragraph, code: str) -> None:
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, code), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = f" {text} "
        run._r.append(el)
    run.font.size = Pt(9)


def _loop_table(doc, headers: list[str], loop: str, cells: list[str], widths: list[float]):
    """A table whose middle row repeats (docxtpl {%tr %}); the header repeats on each page."""
    table = doc.add_table(rows=4, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for j, h in enumerate(headers):
        c = table.cell(0, j)
        c.text = h
        c.paragraphs[0].runs[0].font.bold = True
        c.paragraphs[0].runs[0].font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)
        shade(c, "1F3864")
    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)
    table.cell(1, 0).text = "{%tr for " + loop + " %}"
    for j, text in enumerate(cells):
        table.cell(2, j).text = text
    table.cell(3, 0).text = "{%tr endfor %}"
    no_split(table.rows[2])
    for r in (0, 2):
        for c in table.rows[r].cells:
            for run in c.paragraphs[0].runs:
                run.font.size = Pt(10)
    set_widths(table, widths)
    return table


def no_split(row) -> None:
    """A row is never split across two pages."""
    el = OxmlElement("w:cantSplit")
    el.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(el)


def set_widths(table, widths_cm: list[float]) -> None:
    """Column widths that Word and LibreOffice both honour (grid and cells, no autofit)."""
    table.autofit = False
    grid = table._tbl.tblGrid
    for col, w in zip(grid.findall(qn("w:gridCol")), widths_cm, strict=True):
        col.set(qn("w:w"), str(int(Cm(w).twips)))
    for row in table.rows:
        for cell, w in zip(row.cells, widths_cm, strict=False):
            cell.width = Cm(w)


def data_table(doc, headers: list[str], rows: list[list[str]], widths: list[float],
               size: float = 9.5):
    """A plain table for a generated section: navy header repeated on every page, rows
    that never split, figures right-aligned after the first text columns."""
    table = doc.add_table(rows=1 + len(rows), cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for j, h in enumerate(headers):
        c = table.cell(0, j)
        c.text = h
        run = c.paragraphs[0].runs[0]
        run.font.bold, run.font.size = True, Pt(size)
        run.font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)
        shade(c, "1F3864")
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    table.rows[0]._tr.get_or_add_trPr().append(el)
    for i, row in enumerate(rows, start=1):
        no_split(table.rows[i])
        for j, text in enumerate(row):
            c = table.cell(i, j)
            c.text = text
            if c.paragraphs[0].runs:
                c.paragraphs[0].runs[0].font.size = Pt(size)
    set_widths(table, widths)
    return table


def narrow_cells(table, cm: float = 0.08) -> None:
    """Small left and right cell margins, for a table of many narrow columns."""
    tbl_pr = table._tbl.tblPr
    mar = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), str(int(Cm(cm).twips)))
        el.set(qn("w:type"), "dxa")
        mar.append(el)
    tbl_pr.append(mar)


def shade(cell, hex_colour: str) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), hex_colour)
    tc_pr.append(shd)


def _grouped(doc, loop: str) -> None:
    """People under group labels (Ministers, Officials, Secretariat), a line each."""
    doc.add_paragraph("{%p for g in " + loop + " %}")
    p = doc.add_paragraph()
    p.add_run("{{ g.group }}").bold = True
    p.paragraph_format.keep_with_next = True
    doc.add_paragraph("{%p for name in g.names %}")
    doc.add_paragraph("{{ name }}").paragraph_format.left_indent = Cm(0.6)
    doc.add_paragraph("{%p endfor %}")
    doc.add_paragraph("{%p endfor %}")


def minutes() -> DocxDocument:
    doc = _base()
    doc.add_paragraph("{{ taskforce }}", style="Title")
    doc.add_paragraph("Minutes of meeting {{ meeting_id }}, held at {{ time }} on {{ date }}"
                      "{% if venue %}, {{ venue }}{% endif %}")
    doc.add_paragraph("Chair: {{ chair }}")
    doc.add_paragraph("Distribution", style="Heading 2")
    doc.add_paragraph("{{ distribution }}")
    doc.add_paragraph("Present", style="Heading 2")
    _grouped(doc, "present")
    doc.add_paragraph("Apologies", style="Heading 2")
    doc.add_paragraph("{{ apologies }}")
    doc.add_paragraph("Record of discussion", style="Heading 1")
    doc.add_paragraph("{%p for item in items %}")
    doc.add_paragraph("{{ item.no }}. {{ item.title }}{% if item.lead %} (lead: "
                      "{{ item.lead }}){% endif %}", style="Heading 2")
    doc.add_paragraph("{%p for para in item.paragraphs %}")
    doc.add_paragraph("{{ para.n }}.\t{{ para.text }}")
    doc.add_paragraph("{%p endfor %}")
    doc.add_paragraph("{%p endfor %}")
    doc.add_paragraph("Decisions", style="Heading 1")
    doc.add_paragraph("{%p for d in decisions %}")
    doc.add_paragraph("{{ d.n }}.\t{{ d.text }}")
    doc.add_paragraph("{%p endfor %}")
    h = doc.add_paragraph("Actions", style="Heading 1")
    h.paragraph_format.keep_with_next = True
    _loop_table(doc, ["No.", "Action", "Owner", "Due"], "a in actions",
                ["{{ a.id }}", "{{ a.description }}", "{{ a.owner }}", "{{ a.due }}"],
                [3.0, 8.4, 3.8, 1.8 + 0.6])
    doc.add_paragraph("Next meeting", style="Heading 2")
    doc.add_paragraph("{{ next_meeting }}")
    doc.add_paragraph("")
    doc.add_paragraph("{{ author }}")
    doc.add_paragraph("{{ author_role }}")
    doc.add_paragraph("{{ unit }}")
    doc.add_paragraph("Issued {{ issued }}")
    return doc


def _actions_table(doc, items: str):
    """Actions with their status: the tracker and the outstanding list share one layout."""
    return _loop_table(doc, ["No.", "Action", "Owner", "Due", "Status"], f"a in {items}",
                       ["{{ a.id }}", "{{ a.description }}", "{{ a.owner }}", "{{ a.due }}",
                        "{{ a.status }}"], [2.9, 7.0, 3.3, 2.3, 2.5])


def _keep(paragraph):
    paragraph.paragraph_format.keep_with_next = True
    return paragraph


def pack() -> DocxDocument:
    doc = _base()
    doc.add_paragraph("{{ taskforce }}", style="Title")
    doc.add_paragraph("Agenda pack for meeting {{ meeting_id }}, at {{ time }} on {{ date }}, "
                      "{{ venue }}. Papers from the secretariat, {{ unit }}.")
    doc.add_paragraph("Terms of reference: {{ terms }}")
    doc.add_paragraph("{%p if cycle_note %}")
    p = doc.add_paragraph()
    p.add_run("Note: ").bold = True
    p.add_run("{{ cycle_note }}")
    doc.add_paragraph("{%p endif %}")
    _keep(doc.add_paragraph("1. Agenda", style="Heading 1"))
    _loop_table(doc, ["Time", "No.", "Item", "Lead", "Paper"], "i in agenda",
                ["{{ i.time }}", "{{ i.no }}", "{{ i.title }}", "{{ i.lead }}",
                 "{{ i.paper }}"], [1.5, 1.1, 6.6, 4.6, 3.2])
    _keep(doc.add_paragraph("In attendance", style="Heading 2"))
    _grouped(doc, "attending")
    _keep(doc.add_paragraph("2. Actions tracker from the last meeting ({{ paper_tracker }})",
                            style="Heading 1"))
    _keep(doc.add_paragraph("{{ last_meeting }}"))
    _actions_table(doc, "tracker")
    _keep(doc.add_paragraph("3. Outstanding actions", style="Heading 1"))
    _actions_table(doc, "outstanding")
    _keep(doc.add_paragraph("4. Performance pack ({{ paper_pack }})", style="Heading 1"))
    _keep(doc.add_paragraph("Dashboard of leading indicators, {{ round_label }} round",
                            style="Heading 2"))
    table = _loop_table(doc, ["Measure", "Latest", "As of", "Trajectory", "Data RAG",
                              "Trend"], "m in dashboard",
                        ["{{ m.name }}", "{{ m.latest }}", "{{ m.as_of }}", "{{ m.planned }}",
                         "{% cellbg m.rag_colour %}{{r m.rag }}", "{{ m.trend }}"],
                        [3.8, 2.1, 2.8, 2.8, 1.7, 3.4])
    for j in (1, 3, 4):
        table.cell(2, j).paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph("Trend compares the gap to trajectory with the period before: the "
                      "same basis as the data RAG.")
    doc.add_paragraph("{%p if flags %}")
    _keep(doc.add_paragraph("Assurance flags", style="Heading 2"))
    doc.add_paragraph("{%p endif %}")
    doc.add_paragraph("{%p for f in flags %}")
    doc.add_paragraph("{{ f }}", style="List Bullet")
    doc.add_paragraph("{%p endfor %}")
    _keep(doc.add_paragraph("Trajectories", style="Heading 2"))
    doc.add_paragraph("{%p for c in charts %}")
    _keep(doc.add_paragraph("{{ c.headline }}"))
    doc.add_paragraph("{{ c.image }}")
    doc.add_paragraph("{%p endfor %}")
    doc.add_paragraph("Annex: analysis of the figures", style="Heading 1")
    doc.add_paragraph("{{p annex }}")
    return doc


def _section(doc, landscape: bool) -> None:
    """A new page in the other orientation, keeping the marking header and footer."""
    sec = doc.add_section(WD_SECTION.NEW_PAGE)
    sec.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = (Cm(29.7), Cm(21.0)) if landscape else \
        (Cm(21.0), Cm(29.7))


def _facts_table(doc, rows: list[tuple[str, str]], widths: list[float]):
    """A two-column table of labels and values (front page)."""
    table = doc.add_table(rows=len(rows), cols=2)
    table.style = "Table Grid"
    for i, (label, value) in enumerate(rows):
        table.cell(i, 0).text = label
        table.cell(i, 0).paragraphs[0].runs[0].bold = True
        shade(table.cell(i, 0), "D9E2F3")
        table.cell(i, 1).text = value
        no_split(table.rows[i])
    set_widths(table, widths)
    return table


def report() -> DocxDocument:
    doc = _base()
    doc.add_paragraph("{{ department }}", style="Title")
    doc.add_paragraph("Six-monthly delivery report: {{ round_label }}", style="Heading 1")
    _facts_table(doc, [("To", "{{ addressee }}"), ("From", "{{ unit }}"),
                       ("Date of issue", "{{ issued }}"), ("Protective marking", "{{ marking }}"),
                       ("Contact", "{{ contact }}")], [4.0, 13.0])
    doc.add_paragraph("Summary", style="Heading 2")
    doc.add_paragraph("{{ summary }}")
    _keep(doc.add_paragraph("Priorities at a glance", style="Heading 2"))
    table = _loop_table(doc, ["No.", "Priority", "Likelihood", "Move", "Data RAG", "Flags"],
                        "p in priorities",
                        ["{{ p.n }}", "{{ p.short }}", "{% cellbg p.rag_colour %}{{r p.rag }}",
                         "{{ p.move }}", "{% cellbg p.data_colour %}{{r p.data_rag }}",
                         "{{ p.flag_count }}"], [1.2, 7.2, 2.6, 1.6, 2.4, 2.0])
    for j in (0, 2, 3, 4, 5):
        table.cell(2, j).paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    _section(doc, landscape=True)
    doc.add_paragraph("Assessment of delivery: {{ rounds_label }}", style="Heading 1")
    doc.add_paragraph("{{p framework }}")
    key = doc.add_paragraph("Key: {{ framework_key }}")
    key.runs[0].font.size = Pt(9)
    _section(doc, landscape=False)
    doc.add_paragraph("The unit's assessment of the department", style="Heading 1")
    doc.add_paragraph("{{ narrative }}")
    doc.add_paragraph("{%p if challenges %}")
    _keep(doc.add_paragraph("Progress on the challenges of the last delivery report",
                            style="Heading 2"))
    doc.add_paragraph("{%p endif %}")
    doc.add_paragraph("{%p for c in challenges %}")
    p = doc.add_paragraph("{{r c.heading }}")
    p.paragraph_format.keep_with_next = True
    p.paragraph_format.space_before = Pt(6)
    doc.add_paragraph("{%p if c.basis %}")
    p = doc.add_paragraph()
    p.add_run("{{ c.basis }}").italic = True
    p.paragraph_format.keep_with_next = True
    p.paragraph_format.space_after = Pt(2)
    doc.add_paragraph("{%p endif %}")
    doc.add_paragraph("{{ c.progress }}")
    doc.add_paragraph("{%p endfor %}")
    doc.add_paragraph("Priorities", style="Heading 1")
    doc.add_paragraph("{%p for p in priorities %}")
    _keep(doc.add_paragraph("{{ p.n }}. {{ p.title }}", style="Heading 2"))
    p = doc.add_paragraph()
    p.add_run("{{ p.judgement }} ").bold = True
    p.add_run("Target: {{ p.target }}")
    p.paragraph_format.keep_with_next = True
    facts = doc.add_table(rows=3, cols=2)
    facts.style = "Table Grid"
    facts.cell(0, 0).text = "{%tr for f in p.facts %}"
    facts.cell(1, 0).text = "{{ f.label }}"
    facts.cell(1, 0).paragraphs[0].runs[0].bold = True
    shade(facts.cell(1, 0), "D9E2F3")
    facts.cell(1, 1).text = "{{ f.text }}"
    for c in (0, 1):
        facts.cell(1, c).paragraphs[0].runs[0].font.size = Pt(10)
        facts.cell(1, c).paragraphs[0].paragraph_format.keep_with_next = True  # one block
    no_split(facts.rows[1])
    facts.cell(2, 0).text = "{%tr endfor %}"
    set_widths(facts, [4.2, 12.8])
    p = doc.add_paragraph()
    p.paragraph_format.space_before = Pt(6)
    p.add_run("The unit's assessment. ").bold = True
    p.add_run("{{ p.narrative }}")
    p = doc.add_paragraph()
    p.add_run("Recommendation (owner: {{ p.owner }}). ").bold = True
    p.add_run("{{ p.recommendation }} ")
    p.add_run("({{ p.basis }})").italic = True
    doc.add_paragraph("{%p endfor %}")
    doc.add_paragraph("{%p if annex %}")
    # no page break before the annex: the last priority's recommendation, pushed over by
    # its own length, was left alone on a mostly blank page; the heading keeps with its
    # first table instead
    _keep(doc.add_paragraph("Annex: figures by organisation", style="Heading 1"))
    doc.add_paragraph("{{p annex }}")
    doc.add_paragraph("{%p endif %}")
    return doc


def build_all(folder: Path = FOLDER) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, make in (("minutes", minutes), ("agenda_pack", pack), ("delivery_report",
                                                                        report)):
        doc = make()
        doc.core_properties.author = "deliverypack"
        doc.core_properties.title = name.replace("_", " ")
        path = folder / f"{name}.docx"
        doc.save(str(path))
        out.append(path)
    return out


if __name__ == "__main__":
    for p in build_all():
        print(p)
