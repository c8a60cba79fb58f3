"""The days a query may name: from 1900-01-01 to 2999-12-31; and when a call may have started:
from 1900-01-01 to a day from now. The bounds keep the arithmetic on them (a week before, a day
after) inside what dates can hold, and a call stamped by a clock gone wrong out of the numbers."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated

from pydantic import Field

from callqa.errors import InputError

FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)
Day = Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY)]


def check_day(day: date, what: str) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InputError(f"{what} {day}: give a day from {FIRST_DAY} to {LAST_DAY}")
    return day


# A call's start may lie this far ahead of the server's clock (clocks and time zones differ).
AHEAD = timedelta(days=1)


def started_at(moment: datetime | str) -> datetime:
    """When a call started, from an upload, the webhook or a metadata file (an ISO 8601 text or a
    datetime): naive, in the server's time zone; ValueError says why it cannot be one."""
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            raise ValueError("not a date and time (ISO 8601)") from None
    try:
        local = moment.astimezone(tz=None).replace(tzinfo=None) if moment.tzinfo is not None else moment
    except (OverflowError, ValueError):
        local = None
    latest = datetime.now() + AHEAD
    if local is None or not datetime.combine(FIRST_DAY, time()) <= local <= latest:
        raise ValueError(f"give a moment from {FIRST_DAY} to {latest:%Y-%m-%d %H:%M} (a day from now)")
    return local


def after(day: date, what: str) -> datetime:
    """The midnight that ends ``day`` (a query's upper bound, exclusive); checked as ``what``."""
    return datetime.combine(check_day(day, what) + timedelta(days=1), time())
