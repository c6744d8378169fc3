"""Is the sun up? Solar elevation from NOAA's "General Solar Position Calculations".

The NOAA Global Monitoring Laboratory approximation (fractional year, equation of time,
declination, hour angle) is good to about a minute for sunrise and sunset between the polar
circles, which is ample for an hourly feature. Pure numpy, vectorized.

For an hourly count labelled by the start of its hour, evaluate at mid-hour
(``stamp + 30 min``) so that the hour of sunrise counts as half light.
"""

from __future__ import annotations

import numpy as np

from bike_traffic.exogenous.calendars import utc_instants

#: Elevation of the sun's centre at sunrise and sunset: refraction (34') plus the radius (16').
HORIZON_DEG = -0.833

#: Paris, Hôtel de Ville: the default place for the counters.
PARIS_LATITUDE = 48.8566
PARIS_LONGITUDE = 2.3522


def sun_elevation(stamps_utc: object, latitude: float, longitude: float) -> np.ndarray:
    """Elevation of the sun's centre above the horizon, without refraction.

    Args:
        stamps_utc: Tz-aware instants (any time zone; converted to UTC).
        latitude: Latitude in degrees, north positive.
        longitude: Longitude in degrees, east positive.

    Returns:
        Elevations in degrees (float array aligned with the stamps), -90..90.

    Raises:
        ValueError: When the stamps are naive or the coordinates are out of range.
    """
    if not -90.0 <= latitude <= 90.0:
        raise ValueError(f"latitude {latitude} is outside -90..90 degrees")
    if not -180.0 <= longitude <= 180.0:
        raise ValueError(f"longitude {longitude} is outside -180..180 degrees")
    stamps = utc_instants(stamps_utc).tz_localize(None).to_numpy().astype("datetime64[s]")
    day = stamps.astype("datetime64[D]")
    year_start = stamps.astype("datetime64[Y]")
    day_of_year = (day - year_start.astype("datetime64[D]")).astype(np.int64) + 1
    hour = (stamps - day).astype(np.int64) / 3600.0
    year = year_start.astype(np.int64) + 1970
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    days_in_year = np.where(leap, 366.0, 365.0)

    gamma = 2.0 * np.pi / days_in_year * (day_of_year - 1 + (hour - 12.0) / 24.0)
    equation_of_time = 229.18 * (
        0.000075
        + 0.001868 * np.cos(gamma)
        - 0.032077 * np.sin(gamma)
        - 0.014615 * np.cos(2 * gamma)
        - 0.040849 * np.sin(2 * gamma)
    )
    declination = (
        0.006918
        - 0.399912 * np.cos(gamma)
        + 0.070257 * np.sin(gamma)
        - 0.006758 * np.cos(2 * gamma)
        + 0.000907 * np.sin(2 * gamma)
        - 0.002697 * np.cos(3 * gamma)
        + 0.00148 * np.sin(3 * gamma)
    )
    true_solar_minutes = hour * 60.0 + equation_of_time + 4.0 * longitude
    hour_angle = np.deg2rad(true_solar_minutes / 4.0 - 180.0)
    phi = np.deg2rad(latitude)
    cos_zenith = np.sin(phi) * np.sin(declination) + np.cos(phi) * np.cos(declination) * np.cos(
        hour_angle
    )
    return 90.0 - np.rad2deg(np.arccos(np.clip(cos_zenith, -1.0, 1.0)))


def is_daylight(stamps_utc: object, latitude: float, longitude: float) -> np.ndarray:
    """Whether the sun is up: elevation above -0.833° (between sunrise and sunset).

    Args:
        stamps_utc: Tz-aware instants (any time zone; converted to UTC).
        latitude: Latitude in degrees, north positive.
        longitude: Longitude in degrees, east positive.

    Returns:
        A boolean array aligned with the stamps.

    Raises:
        ValueError: When the stamps are naive or the coordinates are out of range.
    """
    return sun_elevation(stamps_utc, latitude, longitude) > HORIZON_DEG
