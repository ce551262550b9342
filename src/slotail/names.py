"""Metric and label names, in one place (DESIGN.md's table, then slotail's own health)."""

# prometheus_client appends `_total` to counter families.
SLI_EVENTS = "slotail_sli_events"
OBJECTIVE = "slotail_objective_ratio"
ERROR_RATIO = "slotail_error_ratio"
BURN_RATE = "slotail_burn_rate"
BUDGET_REMAINING = "slotail_error_budget_remaining_ratio"
ALERT_ACTIVE = "slotail_alert_active"
LATENCY_QUANTILE = "slotail_latency_quantile_seconds"
LINES = "slotail_lines"

# The daemon's own health.
INVALID_LINES = "slotail_invalid_lines"
BYTES_READ = "slotail_read_bytes"
ROTATIONS = "slotail_rotations"
SOURCE_ERRORS = "slotail_source_errors"
TRUNCATIONS = "slotail_truncations"
DROPPED = "slotail_dropped_events"
LATE = "slotail_late_events"
LAG = "slotail_lag_seconds"
CHECKPOINT_DURATION = "slotail_checkpoint_duration_seconds"
CHECKPOINT_AGE = "slotail_checkpoint_age_seconds"
CHECKPOINT_ERRORS = "slotail_checkpoint_errors"
ALERTMANAGER_ERRORS = "slotail_alertmanager_push_errors"
TICK_DURATION = "slotail_tick_duration_seconds"
FILES_OPEN = "slotail_files_open"
STORE_BYTES = "slotail_store_bytes"
SERIES_OVERFLOW = "slotail_series_overflow"  # grouped SLOs: events folded into overflow
FIELD_MISMATCH = "slotail_field_mismatch"  # events with a field the SLO reads missing or of another type
BUILD_INFO = "slotail_build_info"

# Labels.
SLO = "slo"
OUTCOME = "outcome"
WINDOW = "window"
ALERT = "alert"
SEVERITY = "severity"
# A gauge's quantile is `percentile` (`95`, `99.9`): promtool lints `quantile` as reserved for summaries.
PERCENTILE = "percentile"
SOURCE = "source"
RESULT = "result"
REASON = "reason"
FIELD = "field"
