"""Store: time-bucketed counters and HDR latency histograms in ring buffers, per SLO series."""

from slotail.store.layout import Layout, Tier
from slotail.store.store import Store

__all__ = ["Layout", "Store", "Tier"]
