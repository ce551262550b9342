"""Engine: windows over the store -> error ratios, burn rates, budgets and alert states at a given now."""

from slotail.engine.clock import Clock, ManualClock, WallClock
from slotail.engine.engine import Engine
from slotail.engine.snapshot import AlertState, SLOStatus, WindowStats

__all__ = ["AlertState", "Clock", "Engine", "ManualClock", "SLOStatus", "WallClock", "WindowStats"]
