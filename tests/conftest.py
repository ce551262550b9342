"""Suite-wide settings."""

from __future__ import annotations

from hypothesis import settings

# No per-example deadline: examples are timed by the machine's load as much as by the code (a shared
# 2-core CI machine ran one past 200 ms); slowness is what benchmarks/ measures, not the property tests.
settings.register_profile("slotail", deadline=None)
settings.load_profile("slotail")
