"""Nodes that generate a realistic Paris counter export, offline and deterministic.

The generator writes what the City of Paris portal publishes: the 16 French
columns, ``;``-separated, timestamps in local time with their offset, rows in
no particular order; and beside it the raw files a model needs to explain the
counts: Météo-France SYNOP reports of Paris-Orly and the official school calendar.

The hourly weather is drawn first; the counts then respond to drivers that a model can
compute from those files (:mod:`.drivers`): temperature, rain this hour and in the last
3 hours, daylight at the counter, zone C school holidays, public holidays and bridge days,
lockdowns and curfews. On top of that: the counter's level and hourly profile (weekday
commute peaks, weekend afternoon leisure), a day-of-week factor, negative binomial noise,
a small daily noise, a slow per-counter drift, counter outages (runs of zeros), and 3-4% of
rows that lack the counter id and coordinates.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import numpy as np
import pandas as pd

from bike_traffic.calendar import PARIS_TZ
from bike_traffic.exogenous.calendars import school_holiday_periods
from bike_traffic.exogenous.weather import normalize_synop, to_hourly
from bike_traffic.raw_format import RAW_COLUMNS

from .climate import draw_weather, plant_defects, synop_reports
from .drivers import (
    SUNDAY_OR_HOLIDAY,
    WORKING_DAY,
    check_coefficients,
    day_types,
    daylight_matrix,
    holidays_around,
    hourly_drivers,
    local_dates,
    log_effects,
)
from .school_calendar import calendar_rows, check_periods
from .sites import DIRECTIONS, SITES, WEEKDAY_PROFILE, WEEKEND_PROFILE

logger = logging.getLogger(__name__)

_COMMUTE_MORNING = np.arange(6, 11)
_COMMUTE_EVENING = np.arange(16, 21)
#: Day-of-week factors, Monday to Sunday (public holidays take Sunday's).
DOW_FACTORS = (0.96, 1.05, 1.07, 1.06, 0.98, 1.08, 0.92)
_HOURS_PER_YEAR = 24 * 365.25


def _rng(params: dict[str, Any], stream: str) -> np.random.Generator:
    """A generator per purpose, so that changing one part keeps the others."""
    return np.random.default_rng(_seed(params, stream))


def _seed(params: dict[str, Any], stream: str) -> int:
    digest = hashlib.sha256(f"{params['seed']}:{stream}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def counting_period(params: dict[str, Any]) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first and last counting hours (UTC) of ``days`` local days from ``start``.

    Raises:
        ValueError: When ``days`` is not a positive whole number.
    """
    days = params["days"]
    if isinstance(days, bool) or int(days) != days or int(days) < 1:
        raise ValueError(f"synthetic_raw.days: {days!r} is not a positive whole number of days")
    start_local = pd.Timestamp(params["start"]).tz_localize(PARIS_TZ)
    end_local = start_local + pd.DateOffset(days=int(days))
    return start_local.tz_convert("UTC"), end_local.tz_convert("UTC") - pd.Timedelta(hours=1)


def make_counters(params: dict[str, Any]) -> pd.DataFrame:
    """Draw the counting sites and their counters.

    Most sites have two counters, one per direction (``... N-S`` and ``... S-N``);
    the rest have one. Each counter gets a traffic level (log-normal, as the
    real counters' means are), a leisure share (quays are more leisure than
    commute), and a morning/evening bias that is opposite for the two
    directions of a site.

    Args:
        params: ``synthetic_raw`` parameters (``seed``, ``n_sites``,
            ``single_counter_share``, ``level_sigma``).

    Returns:
        One row per counter with ids, names, coordinates and traffic traits.
    """
    rng = _rng(params, "counters")
    n_sites = int(params["n_sites"])
    picks = rng.choice(len(SITES), size=n_sites, replace=n_sites > len(SITES))
    rows = []
    for site_no, pick in enumerate(picks):
        street, lat, lon = SITES[pick]
        number = int(rng.integers(1, 180))
        prefix = rng.choice(["", "", "", "", "Face au ", "Totem "])
        site_name = f"{prefix}{number} {street}"
        site_id = 100_000_000 + 3_000 + site_no * 7_919
        installed = pd.Timestamp("2012-01-01") + pd.Timedelta(days=int(rng.integers(0, 3650)))
        site_lat = round(lat + rng.normal(0, 0.0008), 6)
        site_lon = round(lon + rng.normal(0, 0.0012), 6)
        two_way = rng.random() >= float(params["single_counter_share"])
        pair = DIRECTIONS[int(rng.integers(len(DIRECTIONS)))]
        leisure = float(
            rng.beta(4, 4) if street.startswith(("quai", "cours")) else rng.beta(1.5, 8)
        )
        bias = float(rng.uniform(0.15, 0.4))
        level = float(rng.lognormal(0.0, float(params["level_sigma"])))
        for direction_no, direction in enumerate(pair[: 2 if two_way else 1]):
            counter_no = int(rng.integers(100_000_000, 999_999_999))
            rows.append(
                {
                    "site_id": str(site_id),
                    "site_name": site_name,
                    "counter_id": f"{site_id}-{counter_no}",
                    "counter_name": f"{site_name} {direction}",
                    "technical_id": f"{rng.choice(['X2H', 'Y2H'])}{rng.integers(10**7, 10**8)}",
                    "installed": installed.strftime("%Y-%m-%d"),
                    "latitude": site_lat,
                    "longitude": site_lon,
                    "level": level * float(rng.lognormal(0.0, 0.25)),
                    "leisure": leisure,
                    "morning_bias": bias if direction_no == 0 else -bias,
                    "has_photo": bool(rng.random() < float(params["photo_share"])),
                }
            )
    counters = pd.DataFrame(rows)
    logger.info("Generated %d counters at %d sites", len(counters), n_sites)
    return counters


def make_calendar(params: dict[str, Any]) -> pd.DataFrame:
    """Build the hourly timeline of the counts.

    Hours are drawn in UTC, so the local day of the spring clock change has 23
    hours and the autumn one 25, as in the real export. ``days`` may span several years.

    Args:
        params: ``synthetic_raw`` parameters (``start``, ``days``).

    Returns:
        One row per hour: ``ts_utc``, ``ts_local``, local ``hour``, ``dow`` (Monday = 0),
        local ``date``, ``is_holiday`` (French public holiday) and ``day_type``
        (:data:`~.drivers.WORKING_DAY`, :data:`~.drivers.SATURDAY` or
        :data:`~.drivers.SUNDAY_OR_HOLIDAY`).

    Raises:
        ValueError: When ``days`` is not a positive whole number.
    """
    first, last = counting_period(params)
    utc = pd.date_range(first, last, freq="h")
    local = utc.tz_convert(PARIS_TZ)
    days = local_dates(utc)
    public = holidays_around(days)
    cal = pd.DataFrame(
        {
            "ts_utc": utc,
            "ts_local": local,
            "hour": local.hour,
            "dow": local.day_of_week,
            "date": local.normalize().tz_localize(None),
            "is_holiday": np.isin(days, np.array(sorted(public), dtype="datetime64[D]")),
            "day_type": day_types(utc, public),
        }
    )
    logger.info(
        "Timeline: %d hours from %s (%d local days), %d public holidays",
        len(cal),
        params["start"],
        int(params["days"]),
        cal.loc[cal["is_holiday"], "date"].nunique(),
    )
    return cal


def simulate_weather(params: dict[str, Any]) -> pd.DataFrame:
    """Draw the hourly weather of the counting period, with a margin, before any count.

    The weather covers the counting period and ``weather.margin_days`` on either side,
    plus the 24 hours before the first SYNOP report (whose ``rr24`` needs them).

    Args:
        params: ``synthetic_raw`` parameters (``start``, ``days``, ``seed``, ``weather``).

    Returns:
        Hourly UTC weather (see :func:`.climate.draw_weather`).

    Raises:
        ValueError: On invalid weather parameters or ``days``.
    """
    first, last = counting_period(params)
    margin = pd.Timedelta(days=float(params["weather"]["margin_days"]))
    first_report = (first - margin).floor("3h")
    last_report = (last + margin).ceil("3h")
    weather = draw_weather(
        first_report - pd.Timedelta(hours=24),
        last_report,
        params["weather"],
        _seed(params, "weather"),
    )
    daily = weather.set_index("timestamp_utc")["rain_mm"].resample("D").sum()
    logger.info(
        "Weather: %d hours, mean %.1f °C (%.1f to %.1f), %d wet days of %d, %.0f mm of rain",
        len(weather),
        weather["temperature_c"].mean(),
        weather["temperature_c"].min(),
        weather["temperature_c"].max(),
        int((daily >= 1.0).sum()),
        len(daily),
        weather["rain_mm"].sum(),
    )
    return weather


def format_synop(weather: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """Write the weather as Météo-France "SYNOP essentielles OMM" reports of one station.

    Every 3 hours in UTC, the legacy monthly archive's 59 columns as text (missing values
    ``""``: ``SynopDataset`` writes them ``mq``), with the real file's defects: a few
    missing 3-hour slots, a duplicated row, months in random order.

    Args:
        weather: Output of :func:`simulate_weather`.
        params: ``synthetic_raw`` parameters (``seed``, ``weather.station``,
            ``weather.missing_reports``, ``weather.duplicated_reports``).

    Returns:
        The reports, one row each, every column text.
    """
    settings = params["weather"]
    reports = synop_reports(weather, str(settings["station"]))
    planted = plant_defects(
        reports,
        int(settings["missing_reports"]),
        int(settings["duplicated_reports"]),
        _rng(params, "synop"),
    )
    logger.info(
        "SYNOP %s: %d reports from %s to %s, %d removed, %d duplicated",
        settings["station"],
        len(planted),
        reports["date"].iloc[0],
        reports["date"].iloc[-1],
        int(settings["missing_reports"]),
        int(settings["duplicated_reports"]),
    )
    return planted


def format_school_calendar(params: dict[str, Any]) -> pd.DataFrame:
    """Write the zone's school holidays in the official "Calendrier scolaire" format.

    The periods are the real ones, given as parameters; every school year that the
    counting period touches is written whole, one row per period and académie.

    Args:
        params: ``synthetic_raw`` parameters (``start``, ``days``, ``seed``,
            ``school_calendar``: ``zone``, ``academies``, ``periods``).

    Returns:
        The rows of the official file (see :mod:`.school_calendar`), all text.

    Raises:
        ValueError: On invalid periods, or when the periods do not cover a school year of
            the counting period.
    """
    settings = params["school_calendar"]
    periods = check_periods(settings["periods"])
    first, last = counting_period(params)
    table = calendar_rows(
        periods,
        first.tz_convert(PARIS_TZ).tz_localize(None).normalize(),
        last.tz_convert(PARIS_TZ).tz_localize(None).normalize(),
        str(settings["zone"]),
        [str(academy) for academy in settings["academies"]],
        _rng(params, "school_calendar"),
    )
    logger.info(
        "School calendar %s: %d rows, school years %s",
        settings["zone"],
        len(table),
        sorted(table["annee_scolaire"].unique()),
    )
    return table


def make_drivers(
    calendar: pd.DataFrame,
    weather_reports: pd.DataFrame,
    school_calendar: pd.DataFrame,
    restrictions: list[dict[str, Any]] | None,
    params: dict[str, Any],
) -> pd.DataFrame:
    """The drivers of every counting hour, read from the raw files as a model would.

    The SYNOP reports go through :func:`~bike_traffic.exogenous.weather.normalize_synop`
    (the duplicate is dropped) and :func:`~bike_traffic.exogenous.weather.to_hourly`; the
    school calendar through
    :func:`~bike_traffic.exogenous.calendars.school_holiday_periods`; the restriction table
    is a parameter (the one the features read). So the counts respond to what a model sees.

    Args:
        calendar: Output of :func:`make_calendar`.
        weather_reports: ``raw_weather``, as ``SynopDataset`` loads it (or as
            :func:`format_synop` returns it).
        school_calendar: ``raw_school_calendar``, every column as text.
        restrictions: The restriction table (``params:data_cleaning.restrictions``);
            ``None`` or empty: no lockdown nor curfew.
        params: ``synthetic_raw`` parameters (``weather.station``, ``school_calendar.zone``).

    Returns:
        One row per hour of ``calendar``, in its order (see :func:`.drivers.hourly_drivers`).

    Raises:
        ValueError: When the weather does not cover the counting period, or a file or the
            restriction table is invalid.
    """
    tidy, quarantine = normalize_synop(weather_reports, str(params["weather"]["station"]))
    periods = school_holiday_periods(school_calendar, str(params["school_calendar"]["zone"]))
    drivers = hourly_drivers(
        calendar["ts_utc"],
        to_hourly(tidy),
        periods,
        restrictions or [],
        where="raw_weather",
    )
    logger.info(
        "Drivers: %.1f °C on average, %.1f%% rainy hours, %.1f%% school holiday hours, "
        "%d lockdown and %d curfew hours (%d SYNOP rows set aside)",
        drivers["temperature_c"].mean(),
        100 * (drivers["rain_mm"] > 0).mean(),
        100 * drivers["school_holiday"].mean(),
        int(drivers["lockdown"].sum()),
        int(drivers["curfew"].sum()),
        len(quarantine),
    )
    return drivers


def _hour_shapes(counters: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per-counter weekday and weekend hourly shapes, ``(n_counters, 24)`` each."""
    weekday = np.asarray(WEEKDAY_PROFILE)
    weekend = np.asarray(WEEKEND_PROFILE)
    bias = counters["morning_bias"].to_numpy()[:, None]
    commute = np.tile(weekday, (len(counters), 1))
    commute[:, _COMMUTE_MORNING] *= 1 + bias
    commute[:, _COMMUTE_EVENING] *= 1 - bias
    commute /= commute.mean(axis=1, keepdims=True)
    leisure = counters["leisure"].to_numpy()[:, None]
    weekday_shape = (1 - leisure) * commute + leisure * weekend / weekend.mean()
    weekend_shape = np.tile(weekend, (len(counters), 1)) * (1 + 0.6 * leisure)
    return weekday_shape, weekend_shape


def expected_counts(
    counters: pd.DataFrame,
    calendar: pd.DataFrame,
    drivers: pd.DataFrame | None,
    params: dict[str, Any],
) -> np.ndarray:
    """The expected count of each counter and hour, before scaling and noise.

    ``level × shape[day type, hour] × day-of-week factor × exp(Σ coefficient × driver)``:
    the weekday shape on working days (bridge days included), the weekend shape on
    Saturdays, Sundays and public holidays (which take Sunday's factor); the drivers are
    those of :mod:`.drivers`, daylight computed at each counter. Deterministic: the same
    inputs give the same values; a driver changed in one hour changes that hour only, by
    ``exp(coefficient × change)``.

    Args:
        counters: Output of :func:`make_counters`.
        calendar: Output of :func:`make_calendar`.
        drivers: Output of :func:`make_drivers` (aligned with ``calendar``); ``None`` for
            the profile alone (no weather, calendar or restriction effect).
        params: ``synthetic_raw`` parameters (``coefficients``, when drivers are given).

    Returns:
        ``(n_counters, n_hours)`` array of positive floats.

    Raises:
        ValueError: When the drivers do not match the calendar, or on invalid coefficients.
    """
    weekday_shape, weekend_shape = _hour_shapes(counters)
    hour = calendar["hour"].to_numpy()
    kind = calendar["day_type"].to_numpy()
    dow = np.where(kind == SUNDAY_OR_HOLIDAY, 6, calendar["dow"].to_numpy())
    shape = np.where((kind == WORKING_DAY)[None, :], weekday_shape[:, hour], weekend_shape[:, hour])
    profile = counters["level"].to_numpy()[:, None] * shape * np.asarray(DOW_FACTORS)[dow][None, :]
    if drivers is None:
        return profile
    if len(drivers) != len(calendar) or not np.array_equal(
        pd.DatetimeIndex(drivers["timestamp_utc"]).asi8, pd.DatetimeIndex(calendar["ts_utc"]).asi8
    ):
        raise ValueError("drivers are not aligned with the calendar (one row per calendar hour)")
    coefficients = check_coefficients(params["coefficients"])
    daylight = daylight_matrix(counters["latitude"], counters["longitude"], calendar["ts_utc"])
    return profile * np.exp(log_effects(drivers, daylight, coefficients))


def simulate_counts(
    counters: pd.DataFrame,
    calendar: pd.DataFrame,
    params: dict[str, Any],
    drivers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Simulate the hourly count of every counter over the timeline.

    The expected counts (:func:`expected_counts`) get a small daily noise and a slow
    per-counter drift (road works, new lanes: ±15% a year), are scaled so that their mean
    is ``mean_hourly_count``, and the counts are drawn from a negative binomial around
    them. Outages set runs of hours to zero.

    Args:
        counters: Output of :func:`make_counters`.
        calendar: Output of :func:`make_calendar`.
        params: ``synthetic_raw`` parameters (``mean_hourly_count``,
            ``dispersion``, ``outages_per_counter``, ``coefficients``, ``seed``).
        drivers: Output of :func:`make_drivers`; ``None`` for the hourly profile alone.

    Returns:
        Long table: ``counter_index``, ``hour_index``, ``count``, ``outage`` and
        ``fault`` (``zero``, ``level_shift``, or "" for a sound hour).
    """
    rng = _rng(params, "counts")
    n_c, n_h = len(counters), len(calendar)
    mu = expected_counts(counters, calendar, drivers, params)
    day_codes, n_days = pd.factorize(calendar["date"])
    mu *= rng.lognormal(0.0, 0.06, len(n_days))[day_codes][None, :]
    years = np.arange(n_h) / _HOURS_PER_YEAR
    drift = rng.normal(0, 0.15, n_c)[:, None] * (years - years.mean())[None, :]
    mu *= np.exp(drift)
    mu *= float(params["mean_hourly_count"]) / mu.mean()
    mu *= traffic_shift(counters, calendar, params)

    k = float(params["dispersion"])
    counts = rng.poisson(mu * rng.gamma(k, 1.0 / k, size=mu.shape))

    outage = np.zeros_like(counts, dtype=bool)
    # per counter and year; a period under a year gets a year's number (small presets too)
    years_covered = max(1.0, n_h / _HOURS_PER_YEAR)
    n_outages = rng.poisson(float(params["outages_per_counter"]) * years_covered, n_c)
    for c in range(n_c):
        for _ in range(n_outages[c]):
            length = int(min(rng.lognormal(np.log(36), 1.1), 24 * 30, n_h))
            start = int(rng.integers(0, max(n_h - length, 1)))
            outage[c, start : start + length] = True
    counts[outage] = 0
    shifted = _level_shift_faults(rng, counts, outage, years_covered, params)
    outage |= shifted

    logger.info(
        "Simulated %d counts: mean %.1f, median %.0f, %d outage hours (%d of a level shift)",
        counts.size,
        counts.mean(),
        np.median(counts),
        int(outage.sum()),
        int(shifted.sum()),
    )
    return pd.DataFrame(
        {
            "counter_index": np.repeat(np.arange(n_c, dtype=np.int32), n_h),
            "hour_index": np.tile(np.arange(n_h, dtype=np.int32), n_c),
            "count": counts.ravel().astype(np.int32),
            "outage": outage.ravel(),
            # which fault made the hour an outage (the truth behind outage_quality.py)
            "fault": pd.Categorical.from_codes(
                np.where(shifted, 2, np.where(outage, 1, 0)).ravel(),
                categories=["", "zero", "level_shift"],
            ),
        }
    )


def _level_shift_faults(
    rng: np.random.Generator,
    counts: np.ndarray,
    outage: np.ndarray,
    years_covered: float,
    params: dict[str, Any],
) -> np.ndarray:
    """Days a sensor counts wrong: a fraction (a lane lost) or a multiple (double counting).

    ``level_shifts_per_counter`` runs per counter and year (none when absent), each of
    whole days (2 to 30, about 6) from a midnight of the timeline, at a factor of 0.15-0.45
    (seven times in ten) or 2.0-2.6. ``counts`` are changed in place; hours already zeroed
    by an outage stay zero.

    Returns:
        The hours of the shifts (counter x hour), the generator's truth for them.
    """
    shifted = np.zeros_like(outage)
    rate = float(params.get("level_shifts_per_counter", 0.0))
    n_c, n_h = counts.shape
    n_days = n_h // 24
    if rate <= 0 or n_days < 3:
        return shifted
    for c in range(n_c):
        for _ in range(rng.poisson(rate * years_covered)):
            days = int(np.clip(round(rng.lognormal(np.log(6), 0.6)), 2, min(30, n_days - 1)))
            start = 24 * int(rng.integers(0, n_days - days))
            low = rng.random() < 0.7
            factor = rng.uniform(0.15, 0.45) if low else rng.uniform(2.0, 2.6)
            hours = slice(start, start + 24 * days)
            counts[c, hours] = np.round(counts[c, hours] * factor)
            shifted[c, hours] = True
    return shifted & ~outage


def traffic_shift(
    counters: pd.DataFrame, calendar: pd.DataFrame, params: dict[str, Any]
) -> np.ndarray | float:
    """Multipliers of the expected counts that inject a shift (``params["shift"]``).

    For the drift-monitoring demo (docs/monitoring.md): from the local date
    ``start``, for ``days`` days (null: to the end), the expected counts of a
    ``counter_share`` of the counters (drawn with a stream of their own; 1.0 =
    all, as a month of strikes) are multiplied by ``factor``.

    Args:
        counters: Output of :func:`make_counters`.
        calendar: Output of :func:`make_calendar`.
        params: ``synthetic_raw`` parameters; no ``shift`` (or null) means none.

    Returns:
        1.0 without a shift, else an ``(n_counters, n_hours)`` array of factors.
    """
    shift = params.get("shift")
    if not shift:
        return 1.0
    start = pd.Timestamp(shift["start"]).tz_localize(PARIS_TZ)
    stamps = calendar["ts_local"]
    in_shift = stamps >= start
    if shift.get("days"):
        in_shift &= stamps < start + pd.DateOffset(days=int(shift["days"]))
    in_shift = in_shift.to_numpy()
    n_c = len(counters)
    n_shifted = max(1, round(float(shift.get("counter_share", 1.0)) * n_c))
    shifted = _rng(params, "shift").choice(n_c, size=min(n_shifted, n_c), replace=False)
    factors = np.ones((n_c, len(calendar)))
    factors[np.ix_(np.sort(shifted), np.flatnonzero(in_shift))] = float(shift["factor"])
    logger.warning(
        "Injected shift: x%s for %d of %d counters over %d hours from %s",
        shift["factor"],
        len(shifted),
        n_c,
        int(in_shift.sum()),
        start.date(),
    )
    return factors


def _iso_with_colon(ts: pd.DatetimeIndex) -> np.ndarray:
    """``2024-03-31T03:00:00+02:00`` for each timestamp (few distinct: fast)."""
    return np.array([t.isoformat() for t in ts], dtype=object)


def format_export(
    counts: pd.DataFrame,
    counters: pd.DataFrame,
    calendar: pd.DataFrame,
    params: dict[str, Any],
) -> pd.DataFrame:
    """Write the simulated counts as the portal's export: 16 French text columns.

    Reproduces the export's quirks: timestamps with their ``+01:00``/``+02:00``
    offset (some with a space instead of ``T``, as the portal's API writes
    them), coordinates as one ``lat,lon`` string (some with a space after the
    comma), counts as ints or floats, empty photo columns for some sites,
    3-4% of rows without counter id and coordinates, rows in random order.

    Args:
        counts: Output of :func:`simulate_counts`.
        counters: Output of :func:`make_counters`.
        calendar: Output of :func:`make_calendar`.
        params: ``synthetic_raw`` parameters (shares of each quirk, ``seed``).

    Returns:
        The export, every column as text, ready for ``;``-separated CSV.
    """
    rng = _rng(params, "format")
    n = len(counts)
    ci = counts["counter_index"].to_numpy()
    hi = counts["hour_index"].to_numpy()
    c = counters.reset_index(drop=True)

    stamps = _iso_with_colon(pd.DatetimeIndex(calendar["ts_local"]))
    stamps_space = np.array([s.replace("T", " ") for s in stamps], dtype=object)
    month_year = calendar["ts_local"].dt.strftime("%Y-%m").to_numpy(dtype=object)
    use_space = rng.random(n) < float(params["space_timestamp_share"])
    timestamp = np.where(use_space, stamps_space[hi], stamps[hi])

    as_float = rng.random(n) < float(params["float_count_share"])
    count_int = counts["count"].astype(str).to_numpy(dtype=object)
    count = np.where(as_float, count_int + ".0", count_int)

    lat = c["latitude"].map("{:.6f}".format).to_numpy(dtype=object)
    lon = c["longitude"].map("{:.6f}".format).to_numpy(dtype=object)
    coords = (lat + ",")[ci] + lon[ci]
    spaced = rng.random(n) < float(params["spaced_coordinates_share"])
    coords = np.where(spaced, (lat + ", ")[ci] + lon[ci], coords)

    counter_id = c["counter_id"].to_numpy(dtype=object)[ci]
    missing = rng.random(n) < float(params["missing_id_share"])
    counter_id = np.where(missing, "", counter_id)
    coords = np.where(missing, "", coords)

    photo = np.where(
        c["has_photo"],
        "https://filer.eco-counter-tools.com/file/"
        + c["technical_id"]
        + "/"
        + c["technical_id"]
        + "_20200818123410.jpg",
        "",
    ).astype(object)
    url_sites = np.where(
        c["has_photo"], "https://www.eco-visio.net/Photos/" + c["site_id"], ""
    ).astype(object)
    image_type = np.where(c["has_photo"], "jpg", "").astype(object)

    columns = dict.fromkeys(RAW_COLUMNS, "")
    columns.update(
        {
            "Identifiant du compteur": counter_id,
            "Nom du compteur": c["counter_name"].to_numpy(dtype=object)[ci],
            "Identifiant du site de comptage": c["site_id"].to_numpy(dtype=object)[ci],
            "Nom du site de comptage": c["site_name"].to_numpy(dtype=object)[ci],
            "Comptage horaire": count,
            "Date et heure de comptage": timestamp,
            "Date d'installation du site de comptage": c["installed"].to_numpy(dtype=object)[ci],
            "Lien vers photo du site de comptage": photo[ci],
            "Coordonnées géographiques": coords,
            "Identifiant technique compteur": c["technical_id"].to_numpy(dtype=object)[ci],
            "ID Photos": photo[ci],
            "test_lien_vers_photos_du_site_de_comptage_": photo[ci],
            "id_photo_1": photo[ci],
            "url_sites": url_sites[ci],
            "type_dimage": image_type[ci],
            "mois_annee_comptage": month_year[hi],
        }
    )
    export = pd.DataFrame({name: columns[name] for name in RAW_COLUMNS}, index=np.arange(n))
    export = export.iloc[rng.permutation(n)].reset_index(drop=True)
    logger.info(
        "Export: %d rows, %d counters, %.1f%% without counter id and coordinates",
        n,
        len(c),
        100 * missing.mean(),
    )
    return export
