"""The release-freeze decision of seed 000's weekly review (PART 7), over a snapshot.

Per SLO, in order:
- FREEZE when at most `freeze_minutes` of budget remain and the burn rate over the
  last 24 h is at least `freeze_burn`;
- NORMAL when more than `normal_minutes` remain;
- CAUTIOUS otherwise. The seed names 50–100 minutes, and its own example puts
  45 minutes there too, so anything at or under `normal_minutes` that is not a
  freeze is cautious.
An SLO with no events has no decision. The release process follows the worst SLO.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from slotail.engine.snapshot import SLOStatus, Snapshot
from slotail.outputs.lookback import SLOLookback

NORMAL, CAUTIOUS, FREEZE = "NORMAL", "CAUTIOUS", "FREEZE"
SEVERITY = (NORMAL, CAUTIOUS, FREEZE)
MEANING = {
    NORMAL: "normal release process",
    CAUTIOUS: "high-risk changes need SRE pre-approval",
    FREEZE: "only critical hotfixes, with explicit SRE approval",
}


@dataclass(frozen=True)
class FreezePolicy:
    """Thresholds of the decision tree (seed 000 PART 7 by default)."""

    freeze_minutes: float = 20.0
    freeze_burn: float = 1.0
    normal_minutes: float = 100.0


@dataclass(frozen=True)
class SLODecision:
    name: str
    decision: str | None  # None: no events, nothing to decide on
    reason: str


@dataclass(frozen=True)
class Decision:
    """The overall decision and what each SLO contributed."""

    decision: str
    slos: tuple[SLODecision, ...]

    def driven_by(self) -> list[str]:
        """The SLOs whose decision is the overall one (none when everything is normal)."""
        if self.decision == NORMAL:
            return []
        return [s.name for s in self.slos if s.decision == self.decision]


def decide_slo(slo: SLOStatus, day_burn: float | None, policy: FreezePolicy) -> SLODecision:
    """One SLO's decision from its remaining budget minutes and its burn rate over the last 24 h."""
    left = slo.budget.remaining_minutes
    if left is None:
        return SLODecision(slo.name, None, "no events")
    burn = "—" if day_burn is None else f"{day_burn:.2f}x"
    reason = f"{left:.0f} min left, 24 h burn {burn}"
    if left <= policy.freeze_minutes and day_burn is not None and day_burn >= policy.freeze_burn:
        return SLODecision(slo.name, FREEZE, reason)
    return SLODecision(slo.name, NORMAL if left > policy.normal_minutes else CAUTIOUS, reason)


def decide(
    snapshot: Snapshot, day_burns: Mapping[str, float | None], policy: FreezePolicy | None = None
) -> Decision:
    """Every SLO's decision and the worst of them; `day_burns` is each SLO's burn rate over 24 h."""
    policy = policy or FreezePolicy()
    slos = tuple(decide_slo(s, day_burns.get(s.name), policy) for s in snapshot.slos)
    worst = max((SEVERITY.index(s.decision) for s in slos if s.decision is not None), default=0)
    return Decision(SEVERITY[worst], slos)


def decide_recent(
    snapshot: Snapshot, recent: Mapping[str, SLOLookback], policy: FreezePolicy | None = None
) -> Decision:
    """`decide` with each SLO's burn rate over the last day as the store holds it."""
    return decide(snapshot, {name: r.day_burn() for name, r in recent.items()}, policy)
