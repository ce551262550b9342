"""OpenSLO and Sloth specs in and out: `slotail import` writes a config, `slotail export` OpenSLO."""
