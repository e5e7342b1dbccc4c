"""Prefect flows: thin wiring of nlpkit library calls (the only place that imports Prefect)."""
