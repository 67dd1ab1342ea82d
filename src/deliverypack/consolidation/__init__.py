"""Consolidation: data RAG, forecasts and the views every output is drawn from."""
