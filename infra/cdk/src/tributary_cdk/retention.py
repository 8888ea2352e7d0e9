"""CloudWatch Logs retention from a number of days (CloudWatch offers only some values)."""

from __future__ import annotations

from aws_cdk import aws_logs as logs

_BY_DAYS = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    731: logs.RetentionDays.TWO_YEARS,
}


def log_retention(days: int) -> logs.RetentionDays:
    """The retention for ``days``.

    Raises:
        ValueError: CloudWatch has no retention of exactly ``days`` (or this table does not list it).
    """
    try:
        return _BY_DAYS[days]
    except KeyError:
        raise ValueError(f"log retention of {days} days: choose one of {sorted(_BY_DAYS)}") from None
