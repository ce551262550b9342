"""Coverage-guided fuzzing (atheris) of parse + classify with the shipped config: no input may raise.

Each input is split on newlines into a batch of lines and run through
`Pipeline.observe`; the harness checks that every non-blank line is counted
once (parsed or invalid) and that observations are well formed. Needs atheris
(`.venv/bin/pip install atheris`; not a dependency: it has wheels for few
platforms). Bounded by libFuzzer's own flags, e.g.

    .venv/bin/python benchmarks/fuzz_pipeline.py -max_total_time=60 -rss_limit_mb=1024
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

with atheris.instrument_imports():
    import numpy as np

    from slotail.config import load_config
    from slotail.pipeline import Pipeline
    from slotail.sources.batch import RawBatch

CONFIG = load_config(Path(__file__).resolve().parents[1] / "config" / "slotail.yaml")
PIPELINE = Pipeline(CONFIG)
BOM = b"\xef\xbb\xbf"


def one_input(data: bytes) -> None:
    lines = data.split(b"\n")
    obs, stats = PIPELINE.observe(RawBatch("fuzz", lines, 0, 0))
    blank = sum(1 for line in lines if not line.removeprefix(BOM).strip())
    if stats.read + blank != len(lines) or not 0 <= stats.unmatched <= stats.parsed:
        raise AssertionError(f"lines miscounted: {stats} for {len(lines)} lines, {blank} blank")
    if len(obs) and (
        obs.outcome.max() > 2 or obs.series.max() >= len(CONFIG.slos) or np.any(obs.latency_us < -1)
    ):
        raise AssertionError("malformed observations")


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
