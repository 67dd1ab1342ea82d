"""The rules: what each workbook kind holds (layout, the one cell map), how a cell and a
workbook are read (cells, read), the register, issues as data, checks as generators, a
report and feedback per file."""
