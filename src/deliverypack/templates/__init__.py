"""Issuing workbooks: the writer (build), returns and assessments (issue), task forces'
meeting records (taskforce), datamaps for foreign templates."""
