"""Build the Word templates in document_templates/ (minutes, agenda pack, delivery report).

They are ordinary .docx files with Jinja tags (docxtpl), so the unit's staff can change
wording and branding in Word. A user's own template with the same style names and tags
works in their place. Run `python -m deliverypack.outputs.word_templates` to rebuild them.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from ..resources import shipped

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
    set_widths(table, widths)
    return table


def set_widths(table, widths_cm: list[float]) -> None:
    """Column widths that Word and LibreOffice both honour (grid and cells, no autofit)."""
    table.autofit = False
    grid = table._tbl.tblGrid
    for col, w in zip(grid.findall(qn("w:gridCol")), widths_cm, strict=True):
        col.set(qn("w:w"), str(int(Cm(w).twips)))
    for row in table.rows:
        for cell, w in zip(row.cells, widths_cm, strict=False):
            cell.width = Cm(w)


def shade(cell, hex_colour: str) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), hex_colour)
    tc_pr.append(shd)


def minutes() -> DocxDocument:
    doc = _base()
    doc.add_paragraph("{{ taskforce }} Implementation Task Force", style="Title")
    doc.add_paragraph("Minutes of the meeting held on {{ date }}")
    doc.add_paragraph("Meeting {{ meeting_id }}. Chair: {{ chair }}")
    doc.add_paragraph("Distribution", style="Heading 2")
    doc.add_paragraph("{{ distribution }}")
    doc.add_paragraph("Present", style="Heading 2")
    doc.add_paragraph("{%p for a in present %}")
    doc.add_paragraph("{{ a.name }}, {{ a.role }}{% if a.represented_by %} (represented by "
                      "{{ a.represented_by }}){% endif %}")
    doc.add_paragraph("{%p endfor %}")
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
    doc.add_paragraph("Actions", style="Heading 1")
    _loop_table(doc, ["No.", "Action", "Owner", "Due"], "a in actions",
                ["{{ a.id }}", "{{ a.description }}", "{{ a.owner }}", "{{ a.due }}"],
                [2.6, 9.0, 3.6, 2.4])
    doc.add_paragraph("")
    doc.add_paragraph("{{ secretariat }}")
    return doc


def _actions_table(doc, items: str):
    """Actions with their status: the tracker and the outstanding list share one layout."""
    return _loop_table(doc, ["No.", "Action", "Owner", "Due", "Status"], f"a in {items}",
                       ["{{ a.id }}", "{{ a.description }}", "{{ a.owner }}", "{{ a.due }}",
                        "{{ a.status }}"], [2.4, 7.6, 3.2, 2.4, 2.4])


def pack() -> DocxDocument:
    doc = _base()
    doc.add_paragraph("{{ taskforce }} Implementation Task Force", style="Title")
    doc.add_paragraph("Agenda pack for the meeting on {{ date }}")
    doc.add_paragraph("Terms of reference: {{ terms }}")
    doc.add_paragraph("1. Agenda", style="Heading 1")
    doc.add_paragraph("{%p for i in agenda %}")
    doc.add_paragraph("{{ i.no }}.\t{{ i.title }}{% if i.lead %} (lead: {{ i.lead }})"
                      "{% endif %}")
    doc.add_paragraph("{%p endfor %}")
    doc.add_paragraph("In attendance", style="Heading 2")
    doc.add_paragraph("{%p for g in attending %}")
    doc.add_paragraph("{{ g.group }}: {{ g.names }}")
    doc.add_paragraph("{%p endfor %}")
    doc.add_paragraph("2. Actions tracker from the last meeting", style="Heading 1")
    doc.add_paragraph("{{ last_meeting }}")
    _actions_table(doc, "tracker")
    doc.add_paragraph("3. Outstanding actions", style="Heading 1")
    _actions_table(doc, "outstanding")
    doc.add_paragraph("4. Performance pack", style="Heading 1")
    doc.add_paragraph("Dashboard of leading indicators", style="Heading 2")
    _loop_table(doc, ["Measure", "Latest", "Trajectory", "Data RAG", "Trend"], "m in dashboard",
                ["{{ m.name }}", "{{ m.latest }}", "{{ m.planned }}",
                 "{% cellbg m.rag_colour %}{{ m.rag }}", "{{ m.trend }}"],
                [6.6, 3.0, 3.0, 2.2, 3.2])
    doc.add_paragraph("Trajectories", style="Heading 2")
    doc.add_paragraph("{%p for c in charts %}")
    doc.add_paragraph("{{ c.headline }}")
    doc.add_paragraph("{{ c.image }}")
    doc.add_paragraph("{%p endfor %}")
    doc.add_paragraph("Annex: detailed analysis", style="Heading 1")
    doc.add_paragraph("{%p for t in annex %}")
    doc.add_paragraph("{{ t.title }}", style="Heading 2")
    doc.add_paragraph("{{ t.body }}")
    doc.add_paragraph("{%p endfor %}")
    return doc


def report() -> DocxDocument:
    doc = _base(landscape=True)
    doc.add_paragraph("{{ department }}: six-monthly delivery report", style="Title")
    doc.add_paragraph("{{ round_label }}. {{ unit }}.")
    doc.add_paragraph("Assessment of delivery", style="Heading 1")
    doc.add_paragraph("{{p framework }}")
    doc.add_paragraph("Key: G green, AG amber/green, AR amber/red, R red; degree of challenge "
                      "L, M, H, VH; stage of delivery 1 to 4.")
    doc.add_paragraph("The unit's assessment", style="Heading 1")
    doc.add_paragraph("{{ narrative }}")
    doc.add_paragraph("{%p for c in challenges %}")
    doc.add_paragraph("{{ c.n }}. {{ c.title }} - {{ c.progress }}")
    doc.add_paragraph("{%p endfor %}")
    doc.add_paragraph("Priorities", style="Heading 1")
    doc.add_paragraph("{%p for p in priorities %}")
    doc.add_paragraph("{{ p.title }}", style="Heading 2")
    doc.add_paragraph("{{ p.text }}")
    doc.add_paragraph("{%p endfor %}")
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
