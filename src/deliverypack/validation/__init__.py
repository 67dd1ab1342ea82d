"""Validation: issues as data, checks as generators, a report per file."""
