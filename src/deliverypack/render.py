"""Render outputs with LibreOffice (to PDF) and poppler (to PNG): to look at what we make.

Each call uses its own LibreOffice profile: two processes sharing one exit 0 and write
nothing. Used by `make pictures` and by the tests' real-client checks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .foundation.errors import DeliverypackError


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_pdf(files: list[Path], outdir: Path, timeout: int = 600) -> list[Path]:
    """Convert office files to PDF in one LibreOffice run; the PDFs, in the same order."""
    exe = soffice()
    if exe is None:
        raise DeliverypackError("LibreOffice (soffice) is not installed")
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([exe, f"-env:UserInstallation=file://{profile}", "--headless",
                        "--norestore", "--convert-to", "pdf", "--outdir", str(outdir),
                        *map(str, files)], check=True, capture_output=True, timeout=timeout,
                       env={**os.environ, "HOME": profile})
    out = [outdir / f"{Path(f).stem}.pdf" for f in files]
    missing = [p for p in out if not p.exists()]
    if missing:
        raise DeliverypackError(f"LibreOffice wrote nothing for {', '.join(map(str, missing))}")
    return out


def pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                          check=True).stdout
    return int(info.split("Pages:")[1].split()[0])


def to_png(pdf: Path, target: Path, page: int = 1, dpi: int = 60,
           crop: tuple[float, float, float, float] | None = None) -> Path:
    """One page as a PNG at `target`, optionally cropped to (left, top, right, bottom)
    fractions of the page."""
    stem = target.with_suffix("")
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page),
                    "-singlefile", str(pdf), str(stem)], check=True, capture_output=True)
    if crop:
        from PIL import Image

        img = Image.open(target)
        w, h = img.size
        img.crop((int(crop[0] * w), int(crop[1] * h), int(crop[2] * w),
                  int(crop[3] * h))).save(target)
    return target


def ink(png: Path) -> float:
    """Share of pixels that are not white: 0 for a blank page."""
    from PIL import Image

    img = Image.open(png).convert("L")
    hist = img.histogram()
    return 1 - sum(hist[245:]) / max(sum(hist), 1)


# The pages the README shows: (output label in the demo, file stem, page, picture name).
PICTURES = [  # (output, page, picture, crop)
    ("stocktake deck", 2, "deck-summary", None),
    ("stocktake deck", 12, "deck-trajectory", None),
    ("stocktake deck", 13, "deck-league-table", None),
    ("master workbook", 2, "master-summary", None),
    ("master workbook", 5, "master-framework", None),
    ("delivery report (Home Office)", 1, "delivery-report", None),
    ("minutes", 1, "minutes", None),
    ("agenda pack (EOL, next meeting)", 2, "agenda-pack", None),
    ("return template", 3, "return-template", (0.04, 0.08, 0.72, 0.5)),
]


def pictures(demo_dir: Path, folder: Path) -> list[Path]:
    """Run the demo and render the pages a newcomer should see, as PNGs in `folder`."""
    from rich.console import Console

    from .demo import run_demo

    outputs = run_demo(demo_dir, Console(quiet=True))
    outputs["return template"] = demo_dir / "outbox" / "2003-12" / "DH-2003-12.xlsx"
    wanted = sorted({p[0] for p in PICTURES})
    pdfs = dict(zip(wanted, to_pdf([outputs[w] for w in wanted], demo_dir / "pdf"),
                    strict=True))
    folder.mkdir(parents=True, exist_ok=True)
    return [to_png(pdfs[label], folder / f"{name}.png", page=page,
                   dpi=110 if crop else 70, crop=crop) for label, page, name, crop in PICTURES]


if __name__ == "__main__":
    import sys

    for p in pictures(Path(sys.argv[1]), Path(sys.argv[2])):
        print(p)
