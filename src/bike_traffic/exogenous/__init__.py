"""Exogenous data for forecasting: weather, school and public holidays, restrictions, daylight.

Pure functions (no I/O) over frames loaded by the catalog; the only I/O is in
:mod:`bike_traffic.exogenous.datasets`. Times are tz-aware UTC instants in and out;
calendar facts are local (Europe/Paris) dates.
"""

from bike_traffic.exogenous.calendars import (
    is_bridge_day,
    is_school_holiday,
    public_holidays,
    school_holiday_periods,
)
from bike_traffic.exogenous.daylight import is_daylight, sun_elevation
from bike_traffic.exogenous.restrictions import (
    PARIS_2020_2021,
    restriction_flags,
    validate_restrictions,
)
from bike_traffic.exogenous.weather import (
    check_coverage,
    climatology,
    missing_slots,
    normalize_synop,
    to_hourly,
    weather_at,
)

__all__ = [
    "PARIS_2020_2021",
    "check_coverage",
    "climatology",
    "is_bridge_day",
    "is_daylight",
    "is_school_holiday",
    "missing_slots",
    "normalize_synop",
    "public_holidays",
    "restriction_flags",
    "school_holiday_periods",
    "sun_elevation",
    "to_hourly",
    "validate_restrictions",
    "weather_at",
]
