"""Classify: parsed objects -> observations (series, outcome, latency) per SLO."""

from slotail.classify.classifier import Classifier, Observations

__all__ = ["Classifier", "Observations"]
