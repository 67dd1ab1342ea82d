"""Return templates: the one cell map (layout) and the workbook writer (build)."""
