"""Build slide_templates/stocktake.pptx: the unit's clean 16:9 default.

Its layouts keep Office's standard names (Title Slide, Title and Content, Two Content,
Title Only), so a department's or unit's own branded template, which has the same names,
works in its place. Run `python -m deliverypack.outputs.slide_template` to rebuild it.
"""

from __future__ import annotations

import copy
from pathlib import Path

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.util import Emu

from ..foundation.resources import shipped

NAVY = RGBColor(0x1F, 0x38, 0x64)
WIDTH, HEIGHT = Emu(12192000), Emu(6858000)  # 13.333 x 7.5 in
LAYOUTS = ("Title Slide", "Title and Content", "Two Content", "Title Only")
TEMPLATE = shipped("slide_templates") / "stocktake.pptx"


IN = 914400
# (left, top, width, height) in inches, by layout and placeholder idx; idx 10-12 are the
# date, footer and slide number along the foot of every layout.
GEOMETRY = {
    "master": {0: (0.6, 0.35, 12.13, 0.9), 1: (0.6, 1.45, 12.13, 5.3)},
    "Title Slide": {0: (0.9, 2.1, 11.5, 1.5), 1: (0.9, 3.75, 11.5, 1.8)},
    "Title and Content": {0: (0.6, 0.35, 12.13, 0.9), 1: (0.6, 1.45, 12.13, 5.3)},
    "Two Content": {0: (0.6, 0.35, 12.13, 0.9), 1: (0.6, 1.45, 7.5, 5.3),
                    2: (8.3, 1.45, 4.43, 5.3)},
    "Title Only": {0: (0.6, 0.35, 12.13, 0.9)},
}
FOOT = {10: (0.6, 6.98, 2.8, 0.35), 11: (3.6, 6.98, 6.1, 0.35), 12: (9.93, 6.98, 2.8, 0.35)}


def _place(shapes, geometry: dict) -> None:
    for ph in shapes:
        box = geometry.get(ph.placeholder_format.idx) or FOOT.get(ph.placeholder_format.idx)
        if box:
            ph.left, ph.top, ph.width, ph.height = (Emu(int(v * IN)) for v in box)


def build(target: Path = TEMPLATE) -> Path:
    prs = Presentation()
    prs.slide_width, prs.slide_height = WIDTH, HEIGHT
    master = prs.slide_master
    for layout in list(prs.slide_layouts):
        if layout.name not in LAYOUTS:
            prs.slide_layouts.remove(layout)
    master_geo = {k: v for k, v in GEOMETRY["master"].items()}
    for ph in master.placeholders:
        idx = {"TITLE (1)": 0, "BODY (2)": 1, "DATE (16)": 10, "FOOTER (15)": 11,
               "SLIDE_NUMBER (13)": 12}.get(str(ph.placeholder_format.type))
        if idx is None:
            continue
        box = master_geo.get(idx) if idx in (0, 1) else FOOT.get(idx)
        if box:
            ph.left, ph.top, ph.width, ph.height = (Emu(int(v * IN)) for v in box)
    for layout in prs.slide_layouts:
        _place(layout.placeholders, GEOMETRY[layout.name])
    # Brand: a navy band at the top and a thin rule at the foot, drawn on the master.
    scratch = prs.slides.add_slide(prs.slide_layouts.get_by_name("Title Only"))
    band = scratch.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, 0, WIDTH, Emu(180000))
    rule = scratch.shapes.add_shape(MSO_SHAPE.RECTANGLE, Emu(457200), HEIGHT - Emu(420000),
                                    WIDTH - Emu(914400), Emu(12000))
    for s in (band, rule):
        s.fill.solid()
        s.fill.fore_color.rgb = NAVY
        s.line.fill.background()
    tree = master.shapes._spTree
    for s in (band, rule):
        tree.insert(2, copy.deepcopy(s._element))
    rid = prs.slides._sldIdLst[-1].rId
    prs.part.drop_rel(rid)
    del prs.slides._sldIdLst[-1]
    # Titles in navy, body text a readable size.
    title_style = master.element.find(".//{*}titleStyle")
    for rpr in title_style.iter("{http://schemas.openxmlformats.org/drawingml/2006/main}defRPr"):
        rpr.set("sz", "2800")
        rpr.set("b", "1")
        fill = rpr.find("{http://schemas.openxmlformats.org/drawingml/2006/main}solidFill")
        if fill is not None:
            rpr.remove(fill)
        from pptx.oxml import parse_xml
        rpr.insert(0, parse_xml(
            '<a:solidFill xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
            '<a:srgbClr val="1F3864"/></a:solidFill>'))
    prs.core_properties.title = "Stocktake template"
    prs.core_properties.author = "deliverypack"
    target.parent.mkdir(parents=True, exist_ok=True)
    prs.save(str(target))
    return target


if __name__ == "__main__":
    print(build())
