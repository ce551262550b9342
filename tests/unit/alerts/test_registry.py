"""The alert-kind registry: every kind is registered, its keys reach the config, a key names one kind."""

from __future__ import annotations

from slotail.alerts.registry import KINDS, TRIGGERS, AlertKind
from slotail.config.model import AlertSpec


def test_every_alert_kind_has_a_class_and_each_trigger_key_names_one_kind() -> None:
    """Each `AlertKind` finds a class; no two kinds share a key that says which kind an alert is."""
    assert set(KINDS) == set(AlertKind)
    triggers = [key for kind in KINDS.values() for key in kind.triggers]
    assert sorted(triggers) == sorted(set(triggers)) == sorted(TRIGGERS)


def test_every_kind_key_is_a_key_an_alert_takes() -> None:
    """A kind's keys (its triggers among them) are keys of `AlertSpec`, so the YAML can give them."""
    for kind in KINDS.values():
        assert set(kind.triggers) <= set(kind.fields.model_fields)
        assert set(kind.fields.model_fields) <= set(AlertSpec.model_fields)
