"""Config: YAML in, typed and validated models out."""

from slotail.config.load import load_config, load_config_text
from slotail.config.model import SLO, AlertSpec, Config, LatencySpec, SLIKind, SLISpec

__all__ = [
    "SLO",
    "AlertSpec",
    "Config",
    "LatencySpec",
    "SLIKind",
    "SLISpec",
    "load_config",
    "load_config_text",
]
