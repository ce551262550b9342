"""The report's history: bounded in points whatever the length, and no spike lost to downsampling."""

from __future__ import annotations

import numpy as np
import pytest

from slotail.backfill import Backfill
from slotail.config import load_config_text
from slotail.engine.engine import Evaluation, burn_rates
from slotail.outcomes import BAD, GOOD
from slotail.outputs.history import HistoryRecorder
from tests.scenarios import CONFIG, generate, lines, write

CFG = load_config_text(CONFIG)
SCENARIO = generate(6 * 3600, rate=1.0, seed=4, error=lambda t: 0.5 if 7000 <= t < 7030 else 0.002)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A backfill at 10 s steps, recorded both in full and by a recorder of 20 points."""
    log = write(tmp_path_factory.mktemp("history") / "api.log", lines(SCENARIO), "plain")
    backfill = Backfill(CFG, step_s=10)
    full: list[Evaluation] = []
    recorder = HistoryRecorder(backfill.engine.plans, points=20)

    def both(evaluation: Evaluation) -> None:
        full.append(evaluation)
        recorder.add(evaluation)

    backfill.on_evaluation = both
    result = backfill.run([str(log)])
    return backfill, recorder, full, result


def test_points_stay_between_points_and_twice_points(run):
    _, recorder, full, _ = run
    steps = sum(len(e.times_us) for e in full)
    assert steps > 2000
    times = recorder.history()["availability"].times_us
    assert 20 <= len(times) <= 2 * 20 + 1
    assert np.all(np.diff(times) > 0)


def test_each_point_is_the_worst_value_within_its_span_and_the_last_point_is_the_end(run):
    """A 30-second burst on the 5m window survives folding 2000+ steps into a few dozen points."""
    backfill, recorder, full, result = run
    plan = next(p for p in backfill.engine.plans if p.slo.name == "availability")
    five = next(w for w in plan.windows if w.label == "5m")
    times = np.concatenate([e.times_us for e in full])
    data = np.concatenate([e.counts[five][:, plan.sid] for e in full])
    ratios = burn_rates(data[:, GOOD], data[:, BAD], plan.budget_ratio)[0]
    history = recorder.history()["availability"]
    assert history.times_us[-1] == result.snapshot.at_us
    previous = -1
    for end, value in zip(history.times_us, history.error_ratios["5m"], strict=True):
        span = (times > previous) & (times <= end)
        assert value == pytest.approx(np.nanmax(ratios[span]), nan_ok=True)
        previous = end
    assert np.nanmax(history.error_ratios["5m"]) == pytest.approx(np.nanmax(ratios))


def test_budget_remaining_follows_from_the_period_ratio(run):
    _, recorder, _, result = run
    history = recorder.history()["availability"]
    budget = history.budget_remaining()
    assert budget[-1] == pytest.approx(result.snapshot.slos[0].budget.remaining_ratio)
