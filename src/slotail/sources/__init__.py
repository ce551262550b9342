"""Sources: where raw line bytes come from (archives now, live files in the sidecar)."""
