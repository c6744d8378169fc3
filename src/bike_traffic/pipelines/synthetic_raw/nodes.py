"""Nodes that generate a realistic Paris counter export, offline and deterministic.

The generator writes what the City of Paris portal publishes: the 16 French
columns, ``;``-separated, timestamps in local time with their offset, rows in
no particular order. The counts follow the real counters' patterns: weekday
commute peaks, weekend afternoon leisure, a summer high with an August dip,
French public holidays, rainy days, counter outages (runs of zeros), and 3-4%
of rows that lack the counter id and coordinates.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import numpy as np
import pandas as pd

from bike_traffic.calendar import PARIS_TZ, french_holidays
from bike_traffic.raw_format import RAW_COLUMNS

from .sites import DIRECTIONS, MONTH_FACTORS, SITES, WEEKDAY_PROFILE, WEEKEND_PROFILE

logger = logging.getLogger(__name__)

_COMMUTE_MORNING = np.arange(6, 11)
_COMMUTE_EVENING = np.arange(16, 21)


def _rng(params: dict[str, Any], stream: str) -> np.random.Generator:
    """A generator per purpose, so that changing one part keeps the others."""
    digest = hashlib.sha256(f"{params['seed']}:{stream}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


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
    """Build the hourly timeline with the day-level conditions that drive traffic.

    Hours are drawn in UTC, so the local day of the spring clock change has 23
    hours and the autumn one 25, as in the real export.

    Args:
        params: ``synthetic_raw`` parameters (``start``, ``days``, ``seed``,
            ``rain_day_probability``, ``christmas_factor``, ``holiday_factor``).

    Returns:
        One row per hour: UTC and local timestamps, local hour, weekday, and
        the day's seasonal, holiday and rain factors.
    """
    rng = _rng(params, "calendar")
    start_local = pd.Timestamp(params["start"]).tz_localize(PARIS_TZ)
    end_local = start_local + pd.DateOffset(days=int(params["days"]))
    utc = pd.date_range(
        start_local.tz_convert("UTC"), end_local.tz_convert("UTC"), freq="h", inclusive="left"
    )
    local = utc.tz_convert(PARIS_TZ)
    cal = pd.DataFrame({"ts_utc": utc, "ts_local": local})
    cal["hour"] = local.hour
    cal["dow"] = local.day_of_week
    cal["date"] = local.normalize().tz_localize(None)

    days = pd.DataFrame({"date": cal["date"].drop_duplicates().reset_index(drop=True)})
    # seasonality: monthly factors placed mid-month and interpolated daily
    doy = days["date"].dt.day_of_year.to_numpy()
    anchors = np.array([15 + 30.4 * m for m in range(-1, 13)])
    values = np.array([MONTH_FACTORS[-1], *MONTH_FACTORS, MONTH_FACTORS[0]])
    season = np.interp(doy, anchors, values)
    christmas = (days["date"].dt.month == 12) & (days["date"].dt.day >= 22) | (
        days["date"].dt.month == 1
    ) & (days["date"].dt.day <= 2)
    season = np.where(christmas, season * float(params["christmas_factor"]), season)
    holiday_dates = french_holidays(days["date"].dt.year.unique())
    is_holiday = days["date"].dt.date.isin(holiday_dates).to_numpy()
    # rain: more rainy days in autumn and winter; heavier rain deters more riders
    month = days["date"].dt.month.to_numpy()
    wet_season = np.isin(month, [1, 2, 10, 11, 12])
    p_rain = float(params["rain_day_probability"]) * np.where(wet_season, 1.3, 0.8)
    rain_mm = np.where(rng.random(len(days)) < p_rain, rng.gamma(0.9, 5.0, len(days)), 0.0)
    rain_factor = np.maximum(np.exp(-0.05 * rain_mm), 0.45)
    day_noise = rng.lognormal(0.0, 0.06, len(days))
    days = days.assign(
        season=season * day_noise,
        is_holiday=is_holiday,
        rain_mm=rain_mm.round(1),
        rain_factor=rain_factor,
    )
    cal = cal.merge(days, on="date", how="left")
    logger.info(
        "Timeline: %d hours from %s, %d holidays, %d rainy days",
        len(cal),
        params["start"],
        int(days["is_holiday"].sum()),
        int((days["rain_mm"] > 0).sum()),
    )
    return cal


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


def simulate_counts(
    counters: pd.DataFrame, calendar: pd.DataFrame, params: dict[str, Any]
) -> pd.DataFrame:
    """Simulate the hourly count of every counter over the timeline.

    The expected count is the product of the counter's level, its hourly shape
    (weekday, or weekend and holiday), the weekday factor, the season, the
    day's rain; counts are drawn from a negative binomial around it. Outages
    set runs of hours to zero.

    Args:
        counters: Output of :func:`make_counters`.
        calendar: Output of :func:`make_calendar`.
        params: ``synthetic_raw`` parameters (``mean_hourly_count``,
            ``dispersion``, ``outages_per_counter``, ``holiday_factor``, ``seed``).

    Returns:
        Long table: ``counter_index``, ``hour_index``, ``count``, ``outage``.
    """
    rng = _rng(params, "counts")
    n_c, n_h = len(counters), len(calendar)
    weekday_shape, weekend_shape = _hour_shapes(counters)
    hour = calendar["hour"].to_numpy()
    dow = calendar["dow"].to_numpy()
    holiday = calendar["is_holiday"].to_numpy()
    off_day = (dow >= 5) | holiday
    dow_factor = np.array([0.96, 1.05, 1.07, 1.06, 0.98, 1.08, 0.92])[dow]
    day_factor = (
        calendar["season"].to_numpy()
        * calendar["rain_factor"].to_numpy()
        * dow_factor
        * np.where(holiday, float(params["holiday_factor"]), 1.0)
    )
    shape = np.where(off_day[None, :], weekend_shape[:, hour], weekday_shape[:, hour])
    mu = counters["level"].to_numpy()[:, None] * shape * day_factor[None, :]
    # counter-level slow drift (road works, new lanes): +/- 15% over the year
    drift = rng.normal(0, 0.15, n_c)[:, None] * np.linspace(-0.5, 0.5, n_h)[None, :]
    mu *= np.exp(drift)
    mu *= float(params["mean_hourly_count"]) / mu.mean()
    mu *= traffic_shift(counters, calendar, params)

    k = float(params["dispersion"])
    counts = rng.poisson(mu * rng.gamma(k, 1.0 / k, size=mu.shape))

    outage = np.zeros_like(counts, dtype=bool)
    n_outages = rng.poisson(float(params["outages_per_counter"]), n_c)
    for c in range(n_c):
        for _ in range(n_outages[c]):
            length = int(min(rng.lognormal(np.log(36), 1.1), 24 * 30, n_h))
            start = int(rng.integers(0, max(n_h - length, 1)))
            outage[c, start : start + length] = True
    counts[outage] = 0

    logger.info(
        "Simulated %d counts: mean %.1f, median %.0f, %d outage hours",
        counts.size,
        counts.mean(),
        np.median(counts),
        int(outage.sum()),
    )
    return pd.DataFrame(
        {
            "counter_index": np.repeat(np.arange(n_c, dtype=np.int32), n_h),
            "hour_index": np.tile(np.arange(n_h, dtype=np.int32), n_c),
            "count": counts.ravel().astype(np.int32),
            "outage": outage.ravel(),
        }
    )


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
