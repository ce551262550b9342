"""Backfill laws: how the input is split, compressed and ordered never changes the result."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slotail.backfill import Backfill
from slotail.config import load_config_text
from slotail.outputs.document import document
from tests.scenarios import CONFIG, generate, lines, write

CFG = load_config_text(CONFIG)
SCENARIO = generate(3600, rate=2.0, seed=3, error=lambda t: 0.5 if 1200 <= t < 1800 else 0.002)
LINES = lines(SCENARIO)


def backfill(paths: list[Path]) -> dict:
    result = Backfill(CFG).run([str(p) for p in paths])
    return document(result.snapshot, result.lines)


with tempfile.TemporaryDirectory() as _tmp:
    WHOLE = backfill([write(Path(_tmp) / "whole", LINES, "plain")])


@given(
    cuts=st.lists(st.integers(min_value=0, max_value=len(LINES)), max_size=4),
    compressions=st.lists(st.sampled_from(["plain", "gzip", "zstd"]), min_size=5, max_size=5),
    order=st.randoms(use_true_random=False),
)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_splitting_across_files_and_compressions_in_any_order_gives_identical_output(
    tmp_path, cuts, compressions, order
):
    """The same lines cut into pieces, each compressed its own way, given in any order: same JSON."""
    bounds = [0, *sorted(cuts), len(LINES)]
    paths = [
        write(tmp_path / f"part-{i}-{len(cuts)}-{sum(cuts)}", LINES[lo:hi], compressions[i])
        for i, (lo, hi) in enumerate(itertools.pairwise(bounds))
    ]
    order.shuffle(paths)
    assert backfill(paths) == WHOLE
    assert WHOLE["slos"][0]["alerts"][0]["intervals"]  # the scenario does fire something


def test_two_pods_overlapping_in_time_equal_one_merged_log(tmp_path):
    """Interleaved lines split by pod (two overlapping files) backfill like the single log."""
    pods = [write(tmp_path / f"pod-{p}.log", LINES[p::2], "plain") for p in (0, 1)]
    assert backfill(pods) == WHOLE


def test_a_step_that_is_not_a_whole_number_of_buckets_is_refused(tmp_path):
    """Windows end on bucket edges: at a step inside a bucket they would count events after it (alerts
    firing before their events), so `--step 15s` with 10 s buckets stops with a message naming both;
    a step of whole buckets runs."""
    from click.testing import CliRunner

    from slotail.cli import cli

    log = write(tmp_path / "api.log", LINES[:200], "plain")
    config = tmp_path / "slotail.yaml"
    config.write_text(CONFIG)
    args = ["backfill", "--config", str(config), "--format", "json", "--no-progress"]
    refused = CliRunner().invoke(cli, [*args, "--step", "15s", str(log)])
    assert refused.exit_code == 2, refused.output
    assert "--step" in refused.output and "15s" in refused.output and "10s" in refused.output
    accepted = CliRunner().invoke(cli, [*args, "--step", "20s", str(log)])
    assert accepted.exit_code == 0, accepted.output
    try:
        Backfill(CFG, step_s=15)
    except ValueError as exc:
        assert "15s" in str(exc)
    else:
        raise AssertionError("Backfill accepted a step of 1.5 buckets")
