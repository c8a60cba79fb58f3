"""The days a query may name: from 1900-01-01 to 2999-12-31. Calls lie well inside; the bounds
keep the arithmetic on them (a week before, a day after) inside what dates can hold."""

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


def after(day: date, what: str) -> datetime:
    """The midnight that ends ``day`` (a query's upper bound, exclusive); checked as ``what``."""
    return datetime.combine(check_day(day, what) + timedelta(days=1), time())
