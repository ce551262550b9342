"""Outputs: render engine snapshots for people and programs."""
