"""Fill a workbook the way a department using LibreOffice Calc would, and save it as .xlsx.

Run with the system Python that has python3-uno (not the project's interpreter):
    /usr/bin/python3 tests/lo_fill.py TEMPLATE.xlsx VALUES.json OUT.xlsx
VALUES.json is a list of [sheet, cell, value] (numbers as numbers, dates as "YYYY-MM-DD",
text as text, {"formula": "=..."} for a formula, {"insert_row": true} to insert a row above
the cell's row as the Insert Rows command does). The values are typed through LibreOffice's
own API into the open document.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import uno
from com.sun.star.beans import PropertyValue


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def main(template, values_json, out):
    profile = tempfile.mkdtemp()
    port = 2000 + os.getpid() % 20000
    soffice = subprocess.Popen(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
         "--invisible", f"--accept=socket,host=127.0.0.1,port={port};urp;"],
        env={**os.environ, "HOME": profile})
    try:
        ctx = uno.getComponentContext()
        resolver = ctx.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", ctx)
        for _ in range(120):
            try:
                remote = resolver.resolve(
                    f"uno:socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext")
                break
            except Exception:
                time.sleep(0.5)
        else:
            raise SystemExit("LibreOffice did not start")
        desktop = remote.ServiceManager.createInstanceWithContext(
            "com.sun.star.frame.Desktop", remote)
        doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(os.path.abspath(template)),
                                           "_blank", 0, (prop("Hidden", True),))
        for sheet_name, cell_name, value in json.load(open(values_json)):
            sheet = doc.Sheets.getByName(sheet_name)
            cell = sheet.getCellRangeByName(cell_name)
            if isinstance(value, dict) and value.get("insert_row"):
                sheet.Rows.insertByIndex(cell.CellAddress.Row, 1)
            elif isinstance(value, dict):
                cell.setFormula(value["formula"])
            elif isinstance(value, (int, float)):
                cell.setValue(value)
            elif isinstance(value, str) and len(value) == 10 and value[4] == "-":
                cell.setFormula(value)  # LibreOffice reads an ISO date as a date
            else:
                cell.setString(value)
        doc.storeToURL(uno.systemPathToFileUrl(os.path.abspath(out)),
                       (prop("FilterName", "Calc MS Excel 2007 XML"),))
        doc.close(True)
    finally:
        soffice.terminate()
        soffice.wait(30)


if __name__ == "__main__":
    main(*sys.argv[1:4])
