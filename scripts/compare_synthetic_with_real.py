"""Compare the generated counter export with the real Paris counts.

Generates the default raw files with the ``synthetic_raw`` pipeline (the weather and the
school calendar first, then the counts that respond to them) and cleans them with the
``data_cleaning`` pipeline (both as slices on Kedro's ``SequentialRunner`` over an
in-memory catalog, with the project's parameters: nothing is written under ``data/``),
reads the real hourly counts of 52 counters and the real Paris-Orly weather in
``../shared/data/`` (City of Paris, ODbL; Météo-France), and writes

* ``docs/figures/synthetic_vs_real.png``: hourly, day-of-week and monthly profiles, the
  count distribution, the monthly weather and what each driver does to each month,
  generated against real;
* ``docs/synthetic_data.md``: what the generator reproduces, the figure and the
  numbers side by side. The calibration section of that page (between
  ``<!-- BEGIN calibration`` and ``<!-- END calibration -->``) belongs to
  ``scripts/calibrate_generator.py --write`` and is kept as it is.

Run from the project root::

    .venv/bin/python scripts/compare_synthetic_with_real.py

The real data is never copied into the project: it is read from ``../shared/data/``
(``--real-dir`` to point elsewhere), and the script stops with a message when it is absent.
"""

from __future__ import annotations

import argparse
import copy
import sys
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from script_support import ROOT, config, parameter, run_slice  # noqa: E402

from bike_traffic.calendar import PARIS_TZ, is_french_holiday  # noqa: E402
from bike_traffic.exogenous.datasets import SynopDataset  # noqa: E402
from bike_traffic.exogenous.weather import normalize_synop, to_hourly  # noqa: E402
from bike_traffic.features import COUNTER, TARGET, TIMESTAMP  # noqa: E402
from bike_traffic.pipelines import data_cleaning, synthetic_raw  # noqa: E402
from bike_traffic.pipelines.synthetic_raw.drivers import (  # noqa: E402
    REFERENCE_TEMPERATURE_C,
    check_coefficients,
    daylight_matrix,
)
from bike_traffic.pipelines.synthetic_raw.nodes import DOW_FACTORS, expected_counts  # noqa: E402
from bike_traffic.pipelines.synthetic_raw.sites import (  # noqa: E402
    SITES,
    WEEKDAY_PROFILE,
    WEEKEND_PROFILE,
)

REAL_COUNTS = "paris_counts_2020-09_2021-08.parquet"
REAL_2024 = "sebastopol_hourly_weather_2024.csv"
REAL_SYNOP = "synop_07149_paris-orly_2020-09_2021-10.csv"
REAL_STATION = "07149"
#: The local months of real weather compared with the generated year (the counts' year).
REAL_WEATHER_MONTHS = ("2020-09-01", "2021-09-01")
ATTRIBUTION = "Real data: Ville de Paris (ODbL)"
WEATHER_ATTRIBUTION = "real weather: Météo-France, Paris-Orly SYNOP (Licence Ouverte)"
COMMAND = ".venv/bin/python scripts/compare_synthetic_with_real.py"
CALIBRATION_COMMAND = ".venv/bin/python scripts/calibrate_generator.py --write"
#: The calibration section of the doc, written by scripts/calibrate_generator.py --write.
CALIBRATION_START = "<!-- BEGIN calibration"
CALIBRATION_END = "<!-- END calibration -->"
#: Where the description puts the calibration section (kept verbatim, not reflowed).
CALIBRATION_SLOT = "@@calibration@@"
CALIBRATION_EMPTY = (
    "<!-- BEGIN calibration: written by scripts/calibrate_generator.py --write -->\n"
    f"*No calibration table yet: run `{CALIBRATION_COMMAND}`.*\n"
    "<!-- END calibration -->"
)

#: Facts about the full 2024-2025 raw export, from ../shared/data/README.md.
EXPORT_2024_MEAN = 78.5
EXPORT_2024_MEDIAN = 43.0
EXPORT_2024_MISSING_ID = 0.037

QUANTILES = (0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99)
COUNTER_QUANTILES = (0.10, 0.25, 0.50, 0.75, 0.90)
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTHS = range(1, 13)
MORNING = range(5, 12)
EVENING = range(15, 22)
#: A month of the one-counter 2024 reference counts only with this many hours.
MIN_MONTH_HOURS = 24 * 20
#: A day with at least this much rain (mm) is a wet day (the calibration's convention).
WET_DAY_MM = 1.0
#: The drivers grouped as the monthly decomposition shows them: name -> coefficients.
DRIVER_GROUPS: dict[str, tuple[str, ...]] = {
    "temperature": ("temperature", "temperature_squared"),
    "rain": ("rain_hour", "rain_last_3h"),
    "daylight": ("daylight",),
    "school holidays": ("school_holiday",),
    "public holidays, bridge days": ("public_holiday", "bridge_day"),
    "lockdown, curfew": ("lockdown", "curfew"),
}
GROUP_COLORS = {
    "temperature": "#d62728",
    "rain": "#1f77b4",
    "daylight": "#ff7f0e",
    "school holidays": "#2ca02c",
    "public holidays, bridge days": "#9467bd",
    "lockdown, curfew": "#8c564b",
}

GEN_COLOR = "#1f77b4"
REAL_COLOR = "#d62728"
REF_COLOR = "#7f7f7f"


@dataclass
class Counts:
    """Hourly counts in one shape: counter, count, local time parts, holiday flag."""

    label: str
    frame: pd.DataFrame  # counter, count, ts (Europe/Paris), hour, dow, month, holiday
    period: str


@dataclass
class Profiles:
    """The profiles and distribution figures of one set of counts."""

    weekday: pd.Series
    weekend: pd.Series
    day_of_week: pd.Series
    month: pd.Series
    quantiles: pd.Series
    mean: float
    zero_share: float
    counter_means: pd.Series
    rows: int
    counters: int


@dataclass
class Generated:
    """What the generator produced: its three raw files and the tables behind the counts."""

    raw: pd.DataFrame  # raw_counts, the portal's export (text columns)
    weather: pd.DataFrame  # raw_weather, the SYNOP reports (text columns)
    school_calendar: pd.DataFrame  # raw_school_calendar, the official file's rows
    counters: pd.DataFrame  # synthetic_counters
    calendar: pd.DataFrame  # synthetic_calendar
    drivers: pd.DataFrame  # synthetic_drivers, what the counts responded to
    clean: pd.DataFrame  # clean_counts of data_cleaning on the three raw files


@dataclass
class Months:
    """What makes the generated months: the expectation, each driver's part, the weather."""

    expected: pd.Series  # the generator's expected level per month / the year's
    profile_only: pd.Series  # the same without any driver (day types and counters only)
    factors: pd.DataFrame  # month x driver group: its multiplier relative to the year
    weather: pd.DataFrame  # month: temperature_c, rain_mm, wet_days, rain_hours
    calendar: pd.DataFrame  # month: school_holiday (share of days), public_holidays (days)
    restricted_hours: int  # hours with a lockdown or curfew in force
    year: dict[str, float]  # the drawn weather over the counting period


def _frame(counter, count, stamps: pd.Series) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "counter": counter,
            "count": count.astype("float64"),
            "ts": stamps,
            "hour": stamps.dt.hour,
            "dow": stamps.dt.day_of_week,
            "month": stamps.dt.month,
            "holiday": is_french_holiday(stamps).to_numpy(),
        }
    )


def generate(params: dict) -> Generated:
    """The default raw files (``synthetic_raw``) and their clean features (``data_cleaning``).

    ``run_slice`` returns a slice's free outputs only, so the generator runs as three
    slices that together are the whole pipeline, each node once (the cheap
    ``make_calendar`` twice): the raw weather and school calendar; the counters and the
    drivers read back from those files; the counts and the export.

    Args:
        params: The project's parameters (``synthetic_raw``, ``data_cleaning``).

    Returns:
        The raw files, the counters, calendar and drivers, and ``clean_counts``.
    """
    pipeline = synthetic_raw.create_pipeline()
    files_slice = pipeline.to_outputs("raw_weather", "raw_school_calendar")
    files = run_slice(files_slice, {}, params)
    rest = pipeline - files_slice
    drivers_slice = rest.to_outputs("synthetic_drivers", "synthetic_counters")
    middle = run_slice(drivers_slice, files, params)
    calendar = run_slice(pipeline.to_outputs("synthetic_calendar"), {}, params)
    raw = run_slice(rest - drivers_slice, {**middle, **calendar}, params)["raw_counts"]
    cleaning = data_cleaning.create_pipeline().to_outputs("clean_counts")
    clean = run_slice(cleaning, {"raw_counts": raw, **files}, params)["clean_counts"]
    return Generated(
        raw=raw,
        weather=files["raw_weather"],
        school_calendar=files["raw_school_calendar"],
        counters=middle["synthetic_counters"],
        calendar=calendar["synthetic_calendar"],
        drivers=middle["synthetic_drivers"],
        clean=clean,
    )


def generated_counts(clean: pd.DataFrame) -> Counts:
    """The clean features as :class:`Counts` (the cleaning computed the time parts)."""
    stamps = clean[TIMESTAMP]
    frame = pd.DataFrame(
        {
            "counter": clean[COUNTER].astype(str),
            "count": clean[TARGET].astype("float64"),
            "ts": stamps,
            "hour": clean["hour"],
            "dow": clean["day_of_week"],
            "month": clean["month"],
            "holiday": clean["is_holiday"].to_numpy(),
        }
    )
    return Counts("generated", frame, _period(stamps))


def load_real(real_dir: Path) -> Counts:
    """The real counts of 52 counters, 2020-09 to 2021-08, in Paris local time."""
    path = real_dir / REAL_COUNTS
    if not path.exists():
        sys.exit(
            f"Real counts not found: {path}\n"
            "This comparison needs the reference data in ../shared/data/ (next to the "
            "project folder), or pass --real-dir. Real data is never copied into the project."
        )
    data = pd.read_parquet(path, columns=["counter_name", "bike_count", "date"])
    # `date` is naive UTC (see ../shared/data/README.md)
    stamps = data["date"].dt.tz_localize("UTC").dt.tz_convert(PARIS_TZ)
    frame = _frame(data["counter_name"].astype(str).to_numpy(), data["bike_count"], stamps)
    frame = frame.dropna(subset=["count"])
    return Counts("real 2020-21", frame, _period(stamps))


def load_real_2024(real_dir: Path) -> Counts | None:
    """One real counter through 2024 (a year without lockdown), or None when absent."""
    path = real_dir / REAL_2024
    if not path.exists():
        return None
    data = pd.read_csv(
        path, usecols=["nom_du_site_de_comptage", "comptage_horaire", "date_et_heure_de_comptage"]
    )
    stamps = pd.to_datetime(data["date_et_heure_de_comptage"], utc=True).dt.tz_convert(PARIS_TZ)
    frame = _frame(data["nom_du_site_de_comptage"], data["comptage_horaire"], stamps)
    frame = frame.dropna(subset=["count"])
    return Counts("real 2024, Sébastopol", frame, _period(stamps))


def load_real_weather(real_dir: Path) -> pd.DataFrame | None:
    """The real Paris-Orly hourly weather of the real counts' year, or None when absent.

    Read as the calibration reads it (``SynopDataset``, ``normalize_synop``,
    ``to_hourly``), kept from September 2020 to August 2021 (local).
    """
    path = real_dir / REAL_SYNOP
    if not path.exists():
        return None
    tidy, _ = normalize_synop(SynopDataset(filepath=str(path)).load(), REAL_STATION)
    hourly = to_hourly(tidy)
    local = pd.DatetimeIndex(hourly["timestamp_utc"]).tz_convert(PARIS_TZ)
    first, end = (pd.Timestamp(day).tz_localize(PARIS_TZ) for day in REAL_WEATHER_MONTHS)
    keep = (local >= first) & (local < end)
    return hourly.loc[keep].assign(ts_local=local[keep]).reset_index(drop=True)


def _period(stamps: pd.Series) -> str:
    return f"{stamps.min():%Y-%m-%d} to {stamps.max():%Y-%m-%d}"


def profiles(counts: Counts) -> Profiles:
    """Hourly, day-of-week and monthly profiles and the count distribution."""
    f = counts.frame
    workday = (f["dow"] < 5) & ~f["holiday"]
    weekend = f["dow"] >= 5
    weekday_mean = f.loc[workday, "count"].mean()
    overall = f["count"].mean()
    hours = pd.RangeIndex(24, name="hour")
    counter_means = f.groupby("counter")["count"].mean()
    return Profiles(
        weekday=(f.loc[workday].groupby("hour")["count"].mean() / weekday_mean).reindex(hours),
        weekend=(f.loc[weekend].groupby("hour")["count"].mean() / weekday_mean).reindex(hours),
        day_of_week=(f.groupby("dow")["count"].mean() / overall).reindex(range(7)),
        month=(f.groupby("month")["count"].mean() / overall).reindex(MONTHS),
        quantiles=f["count"].quantile(list(QUANTILES)),
        mean=float(overall),
        zero_share=float((f["count"] == 0).mean()),
        counter_means=counter_means,
        rows=len(f),
        counters=int(counter_means.size),
    )


def months_covered(counts: Counts) -> pd.Series:
    """Hours of data per calendar month (to leave out months barely covered)."""
    hours = counts.frame.groupby("month")["ts"].nunique()
    return hours.reindex(MONTHS, fill_value=0)


def peak(profile: pd.Series, window: range) -> tuple[int, float]:
    """Hour and height of the highest point of ``profile`` within ``window``."""
    part = profile.loc[list(window)]
    return int(part.idxmax()), float(part.max())


def monthly_weather(hourly: pd.DataFrame, local: pd.Series | pd.DatetimeIndex) -> pd.DataFrame:
    """Mean temperature, rain, wet days and rainy-hour share per calendar month.

    Args:
        hourly: ``temperature_c`` and ``rain_mm``, one row per hour.
        local: The local (Europe/Paris) time of each row.
    """
    local = pd.DatetimeIndex(local)
    frame = pd.DataFrame(
        {
            "month": local.month,
            "day": local.normalize().tz_localize(None),
            "temperature_c": hourly["temperature_c"].to_numpy(dtype=float),
            "rain_mm": hourly["rain_mm"].to_numpy(dtype=float),
        }
    )
    daily = frame.groupby("day").agg(month=("month", "first"), rain_mm=("rain_mm", "sum"))
    return pd.DataFrame(
        {
            "temperature_c": frame.groupby("month")["temperature_c"].mean(),
            "rain_mm": frame.groupby("month")["rain_mm"].sum(),
            "wet_days": (daily["rain_mm"] >= WET_DAY_MM).groupby(daily["month"]).sum(),
            "rain_hours": (frame["rain_mm"] > 0).groupby(frame["month"]).mean(),
        }
    ).reindex(MONTHS)


def driver_months(gen: Generated, params: dict) -> Months:
    """The generated months as the generator makes them, driver by driver.

    The expected counts (``expected_counts``: counter level x hourly shape x day-of-week
    factor x ``exp(Σ coefficient × driver)``, before scaling, noise and outages) averaged per
    local month and divided by the year's mean give the level the drivers set for each
    month. A driver group's factor for a month is how much the month's mean expected
    count changes when the group is switched on (its coefficients against zero), divided by
    the same change over the whole year: below 1, the group makes that month quieter than
    the year.

    Args:
        gen: The generator's outputs (:func:`generate`).
        params: ``synthetic_raw`` parameters.
    """
    month = gen.calendar["ts_local"].dt.month.to_numpy()

    def by_month(expected: np.ndarray) -> tuple[pd.Series, float]:
        per_hour = pd.Series(expected.mean(axis=0))
        return per_hour.groupby(month).mean().reindex(MONTHS), float(per_hour.mean())

    full, full_year = by_month(expected_counts(gen.counters, gen.calendar, gen.drivers, params))
    bare, bare_year = by_month(expected_counts(gen.counters, gen.calendar, None, params))
    coefficients = check_coefficients(params["coefficients"])
    factors = {}
    for group, names in DRIVER_GROUPS.items():
        without = copy.deepcopy(params)
        without["coefficients"] = {**coefficients, **dict.fromkeys(names, 0.0)}
        part, part_year = by_month(
            expected_counts(gen.counters, gen.calendar, gen.drivers, without)
        )
        factors[group] = (full / part) / (full_year / part_year)

    local = gen.calendar["ts_local"]
    drivers = gen.drivers
    days = pd.DataFrame(
        {
            "month": local.dt.month.to_numpy(),
            "day": gen.calendar["date"].to_numpy(),
            "school_holiday": drivers["school_holiday"].to_numpy(bool),
            "public_holiday": drivers["public_holiday"].to_numpy(bool),
        }
    ).drop_duplicates("day")
    light = daylight_matrix(
        gen.counters["latitude"], gen.counters["longitude"], gen.calendar["ts_utc"]
    )
    calendar = pd.DataFrame(
        {
            "school_holiday": days.groupby("month")["school_holiday"].mean(),
            "public_holidays": days.groupby("month")["public_holiday"].sum(),
            "daylight": pd.Series(light.mean(axis=0)).groupby(month).mean(),
        }
    ).reindex(MONTHS)
    restricted = drivers["lockdown"].to_numpy(bool) | drivers["curfew"].to_numpy(bool)
    weather = monthly_weather(drivers, local)
    return Months(
        expected=full / full_year,
        profile_only=bare / bare_year,
        factors=pd.DataFrame(factors),
        weather=weather,
        calendar=calendar,
        restricted_hours=int(restricted.sum()),
        year={
            "temperature_c": float(drivers["temperature_c"].mean()),
            "temperature_min": float(drivers["temperature_c"].min()),
            "temperature_max": float(drivers["temperature_c"].max()),
            "rain_mm": float(drivers["rain_mm"].sum()),
            "wet_days": float(weather["wet_days"].sum()),
            "rain_hours": float((drivers["rain_mm"] > 0).mean()),
        },
    )


def raw_quirks(gen: Generated) -> dict[str, float]:
    """Measure the format quirks of the generated raw files (their text columns)."""
    raw = gen.raw
    stamps = raw["Date et heure de comptage"]
    local = pd.to_datetime(stamps, utc=True, format="ISO8601").dt.tz_convert(PARIS_TZ)
    coords = raw["Coordonnées géographiques"]
    names = raw["Nom du compteur"]
    sorted_rows = (
        pd.DataFrame({"name": names, "ts": local})
        .groupby("name", sort=False)["ts"]
        .apply(lambda s: s.is_monotonic_increasing)
    )
    reports = pd.to_datetime(gen.weather["date"], format="%Y%m%d%H%M%S", utc=True)
    slots = pd.date_range(reports.min(), reports.max(), freq="3h")
    months = gen.weather["date"].str[:6]
    blocks = months[months.ne(months.shift())]
    school_years = sorted(gen.school_calendar["annee_scolaire"].unique())
    return {
        "rows": len(raw),
        "counters": int(names.nunique()),
        "missing_id": float((raw["Identifiant du compteur"] == "").mean()),
        "missing_coords": float((coords == "").mean()),
        "space_timestamp": float(stamps.str[10].eq(" ").mean()),
        "offset_plus1": float(stamps.str.endswith("+01:00").mean()),
        "offset_plus2": float(stamps.str.endswith("+02:00").mean()),
        "float_count": float(raw["Comptage horaire"].str.endswith(".0").mean()),
        "spaced_coords": float(coords.str.contains(", ", regex=False).mean()),
        "counters_sorted": float(sorted_rows.mean()),
        "reports": len(gen.weather),
        "report_first": f"{reports.min():%Y-%m-%d %H:%M}",
        "report_last": f"{reports.max():%Y-%m-%d %H:%M}",
        "missing_slots": int(len(slots.difference(pd.DatetimeIndex(reports)))),
        "duplicated_reports": int(gen.weather.duplicated().sum()),
        "months_in_order": bool(blocks.is_monotonic_increasing),
        "calendar_rows": len(gen.school_calendar),
        "school_years": f"{school_years[0]} to {school_years[-1]}" if school_years else "",
    }


def feature_agreement(gen: Generated) -> dict[str, int]:
    """Hours where the cleaned features differ from the drivers the counts responded to.

    ``data_cleaning`` rebuilds the weather and calendar features from the raw files; the
    generator's counts responded to ``synthetic_drivers``, read from the same files.
    """
    clean = gen.clean.drop_duplicates(TIMESTAMP)
    stamps = clean[TIMESTAMP].dt.tz_convert("UTC")
    drivers = gen.drivers.set_index("timestamp_utc")
    pairs = {
        "temperature_c": "temperature_c",
        "rain_mm": "rain_mm",
        "rain_last_3h_mm": "rain_last_3h_mm",
        "school_holiday": "school_holiday",
        "public_holiday": "is_holiday",
        "bridge_day": "bridge_day",
        "lockdown": "lockdown",
        "curfew": "curfew",
    }
    differ = {}
    for driver, feature in pairs.items():
        ours = drivers[driver].reindex(stamps).to_numpy(dtype=float)
        theirs = clean[feature].to_numpy(dtype=float)
        differ[driver] = int((~np.isclose(ours, theirs, atol=1e-6)).sum())
    differ["hours"] = len(clean)
    return differ


# ---------------------------------------------------------------------------- figure


def draw_figure(
    *,
    gen: Profiles,
    real: Profiles,
    ref: Profiles | None,
    gen_counts: Counts,
    real_counts: Counts,
    ref_months: pd.Series | None,
    months: Months,
    real_weather: pd.DataFrame | None,
    path: Path,
) -> None:
    """The 3x2 comparison figure."""
    fig, axes = plt.subplots(3, 2, figsize=(13, 13.5))
    ax = axes[0, 0]
    hours = np.arange(24)
    ax.plot(hours, gen.weekday, color=GEN_COLOR, lw=2, label="generated, weekday")
    ax.plot(hours, real.weekday, color=REAL_COLOR, lw=2, label="real 2020-21, weekday")
    ax.plot(hours, gen.weekend, color=GEN_COLOR, lw=2, ls="--", label="generated, weekend")
    ax.plot(hours, real.weekend, color=REAL_COLOR, lw=2, ls="--", label="real 2020-21, weekend")
    if ref is not None:
        ax.plot(
            hours,
            ref.weekday,
            color=REF_COLOR,
            lw=1.2,
            ls=":",
            label="real 2024, 1 counter, weekday",
        )
    ax.set(
        title="Hourly profile (local time)",
        xlabel="hour of day (Europe/Paris)",
        ylabel="mean count / weekday mean",
        xticks=range(0, 24, 2),
        xlim=(0, 23),
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")

    ax = axes[0, 1]
    x = np.arange(7)
    width = 0.38
    ax.bar(x - width / 2, gen.day_of_week, width, color=GEN_COLOR, label="generated")
    ax.bar(x + width / 2, real.day_of_week, width, color=REAL_COLOR, label="real 2020-21")
    if ref is not None:
        ax.plot(x, ref.day_of_week, "D", color=REF_COLOR, ms=6, label="real 2024, 1 counter")
    ax.axhline(1.0, color="black", lw=0.8)
    ax.set(
        title="Day-of-week profile",
        ylabel="mean count / overall mean",
        xticks=x,
        xticklabels=DAY_NAMES,
        ylim=(0, 1.4),
    )
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8, loc="upper right", ncol=3)

    m = np.arange(1, 13)
    ax = axes[1, 0]
    ax.plot(m, gen.month, "-o", color=GEN_COLOR, lw=2, label="generated (realised)")
    ax.plot(
        m,
        months.expected,
        "x",
        color=GEN_COLOR,
        ms=8,
        mew=2,
        label="generator's expectation from its drivers",
    )
    ax.plot(m, real.month, "-o", color=REAL_COLOR, lw=2, label="real 2020-21 (Aug: 1-9 only)")
    if ref is not None and ref_months is not None:
        ax.plot(m, ref_months, ":D", color=REF_COLOR, ms=5, label="real 2024, 1 counter")
    for start, end, text in ((10.5, 12.5, "lockdown /\ncurfews"), (0.5, 6.5, "curfews")):
        ax.axvspan(start, end, color=REAL_COLOR, alpha=0.05)
        ax.text((start + end) / 2, 0.42, text, ha="center", fontsize=7, color=REAL_COLOR)
    ax.axhline(1.0, color="black", lw=0.8)
    ax.set(
        title="Monthly level (no month factor: weather, daylight, holidays)",
        ylabel="mean count / overall mean",
        xticks=m,
        xticklabels=MONTH_NAMES,
        ylim=(0.35, 1.75),
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")

    ax = axes[1, 1]
    for counts, stats, color in ((gen_counts, gen, GEN_COLOR), (real_counts, real, REAL_COLOR)):
        values = np.sort(counts.frame["count"].to_numpy())
        cdf = np.arange(1, values.size + 1) / values.size
        step = max(values.size // 4000, 1)
        ax.plot(
            values[::step] + 1,
            cdf[::step],
            color=color,
            lw=2,
            label=f"{counts.label}: mean {stats.mean:.1f}, median {stats.quantiles[0.5]:.0f}",
        )
    ax.axvline(EXPORT_2024_MEDIAN + 1, color="black", ls=":", lw=1)
    ax.axvline(EXPORT_2024_MEAN + 1, color="black", ls="--", lw=1)
    ax.text(EXPORT_2024_MEDIAN + 1, 0.03, " 2024-25 export\n median 43", fontsize=7, ha="right")
    ax.text(EXPORT_2024_MEAN + 1, 0.03, " mean 78.5", fontsize=7)
    ax.set_xscale("log")
    ax.set(
        title="Count distribution (all hours)",
        xlabel="hourly count + 1 (log scale)",
        ylabel="share of hours with a count <= x",
        ylim=(0, 1),
    )
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="upper left")

    ax = axes[2, 0]
    rain_ax = ax.twinx()
    width = 0.38
    rain_ax.bar(
        m - width / 2,
        months.weather["rain_mm"],
        width,
        color=GEN_COLOR,
        alpha=0.25,
        label="rain, generated",
    )
    ax.plot(m, months.weather["temperature_c"], "-o", color=GEN_COLOR, lw=2, label="°C, generated")
    if real_weather is not None:
        real_months = monthly_weather(real_weather, real_weather["ts_local"])
        rain_ax.bar(
            m + width / 2,
            real_months["rain_mm"],
            width,
            color=REAL_COLOR,
            alpha=0.25,
            label="rain, real 2020-21",
        )
        ax.plot(
            m,
            real_months["temperature_c"],
            "-o",
            color=REAL_COLOR,
            lw=2,
            label="°C, real Paris-Orly 2020-21",
        )
    ax.set_zorder(rain_ax.get_zorder() + 1)
    ax.patch.set_visible(False)
    ax.set(
        title="Monthly weather: generated draw vs real Paris-Orly (Sep 2020 - Aug 2021)",
        ylabel="mean temperature (°C)",
        xticks=m,
        xticklabels=MONTH_NAMES,
        ylim=(0, 26),
    )
    rain_ax.set(ylabel="rain (mm in the month)", ylim=(0, 260))
    ax.grid(alpha=0.3)
    lines, labels = ax.get_legend_handles_labels()
    bars, bar_labels = rain_ax.get_legend_handles_labels()
    ax.legend(lines + bars, labels + bar_labels, fontsize=8, loc="upper left", ncol=2)

    ax = axes[2, 1]
    for group in months.factors.columns:
        factor = months.factors[group]
        if np.allclose(factor, 1.0):
            continue
        ax.plot(m, factor, "-o", ms=4, color=GROUP_COLORS[group], lw=1.5, label=group)
    ax.plot(m, months.expected, "--", color="black", lw=1.5, label="all drivers (expectation)")
    ax.axhline(1.0, color="black", lw=0.8)
    ax.set(
        title="What each driver does to each generated month",
        ylabel="month's multiplier / the year's",
        xticks=m,
        xticklabels=MONTH_NAMES,
        ylim=(0.6, 1.6),
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", ncol=3)

    fig.suptitle(
        f"Generated export ({gen_counts.period}, {gen.counters} counters) vs real Paris counts "
        f"({real_counts.period}, {real.counters} counters)",
        fontsize=12,
    )
    fig.text(
        0.5,
        0.01,
        f"{ATTRIBUTION}, 'Comptage vélo - Données compteurs'; {WEATHER_ATTRIBUTION}.\n"
        "Real 2020-21 includes COVID lockdowns and curfews; the 2024 reference is one counter "
        "(Sébastopol N-S).",
        ha="center",
        fontsize=9,
    )
    fig.tight_layout(rect=(0, 0.03, 1, 0.98))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ------------------------------------------------------------------------- markdown


def _f(value: float, digits: int = 2) -> str:
    return "" if value is None or pd.isna(value) else f"{value:.{digits}f}"


def _x(value: float, digits: int = 2) -> str:
    """A multiplier: ``x0.85``."""
    return "" if value is None or pd.isna(value) else f"x{value:.{digits}f}"


def _pct(value: float, digits: int = 1) -> str:
    return "" if value is None or pd.isna(value) else f"{100 * value:.{digits}f}%"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _month_name(month: int) -> str:
    return MONTH_NAMES[int(month) - 1]


def calibration_block(path: Path) -> str:
    """The doc's calibration section as it stands (scripts/calibrate_generator.py writes it)."""
    doc = path.read_text(encoding="utf-8") if path.exists() else ""
    start = doc.find(CALIBRATION_START)
    end = doc.find(CALIBRATION_END, start)
    if start < 0 or end < 0:
        return CALIBRATION_EMPTY
    return doc[start : end + len(CALIBRATION_END)]


def summary_numbers(gen: Profiles, real: Profiles) -> dict[str, float]:
    """Correlations and peak hours, generated against real."""
    numbers = {
        "corr_weekday": float(np.corrcoef(gen.weekday, real.weekday)[0, 1]),
        "corr_weekend": float(np.corrcoef(gen.weekend, real.weekend)[0, 1]),
        "corr_both": float(
            np.corrcoef(np.r_[gen.weekday, gen.weekend], np.r_[real.weekday, real.weekend])[0, 1]
        ),
        "corr_day_of_week": float(np.corrcoef(gen.day_of_week, real.day_of_week)[0, 1]),
    }
    for name, prof in (("gen", gen), ("real", real)):
        numbers[f"{name}_morning"], numbers[f"{name}_morning_height"] = peak(prof.weekday, MORNING)
        numbers[f"{name}_evening"], numbers[f"{name}_evening_height"] = peak(prof.weekday, EVENING)
        numbers[f"{name}_weekend"], numbers[f"{name}_weekend_height"] = peak(
            prof.weekend, range(24)
        )
    return numbers


def write_markdown(
    *,
    path: Path,
    figure: Path,
    gen: Profiles,
    real: Profiles,
    ref: Profiles | None,
    ref_months: pd.Series | None,
    gen_counts: Counts,
    real_counts: Counts,
    ref_counts: Counts | None,
    numbers: dict[str, float],
    quirks: dict[str, float],
    agreement: dict[str, int],
    months: Months,
    real_weather: pd.DataFrame | None,
    params: dict,
) -> None:
    """Write docs/synthetic_data.md from the numbers (rerunning the script updates it).

    The calibration section already in the doc is kept as it is.
    """
    rel_fig = (
        figure.relative_to(path.parent).as_posix()
        if figure.is_relative_to(path.parent)
        else figure.as_posix()
    )
    calibration = calibration_block(path)
    generator = params["synthetic_raw"]
    has_ref = ref is not None
    n = numbers
    out: list[str] = []
    add = out.append
    add("# The generated counter export and how it compares with real counts\n")
    add(
        "<!-- Generated by scripts/compare_synthetic_with_real.py: edit the script, not this "
        "file. The calibration section is written by scripts/calibrate_generator.py "
        "--write. -->\n"
    )
    add(
        "No machine of this project's CI reaches the internet, so the default raw data are "
        "generated offline by the `synthetic_raw` pipeline "
        "(`src/bike_traffic/pipelines/synthetic_raw/`, parameters in "
        "`conf/base/parameters_synthetic_raw.yml`): the counter export (`raw_counts`, "
        "`data/01_raw/comptage-velo-donnees-compteurs.csv`) in exactly the City of Paris "
        "portal's format, and beside it the two public files that explain its counts, in "
        "their publishers' formats: the Météo-France weather of Paris-Orly (`raw_weather`, "
        "`data/01_raw/synop_07149.csv`) and the official school calendar "
        "(`raw_school_calendar`, `data/01_raw/fr-en-calendrier-scolaire.csv`); catalog "
        "entries in `conf/base/catalog_synthetic.yml`. The counts respond only to drivers "
        "that a model can compute from these files and the public calendars, with "
        "coefficients fitted on the real year. This page shows what the generator "
        "reproduces and compares it with real counts.\n"
    )
    add(
        "Regenerate this page and its figure with the first command below: it runs the "
        "`synthetic_raw` and `data_cleaning` pipelines in memory with the project's "
        "parameters (nothing is written under `data/`), then compares. The second refits "
        "the coefficients and the climate (the calibration section below and the "
        "parameters); rerun the first after it.\n"
    )
    add(f"```bash\n{COMMAND}\n{CALIBRATION_COMMAND}   # refits the coefficients (below)\n```\n")
    add(
        "The real data is read from `../shared/data/` (never copied into the project); the "
        "scripts stop with a message when it is not there.\n"
    )

    add("## What the generator reproduces\n")
    add(_generator_description(generator, params, quirks, agreement, months, calibration))

    add("## Comparison with real counts\n")
    add(f"![Generated vs real counts]({rel_fig})\n")
    add(f'*{ATTRIBUTION}, "Comptage vélo - Données compteurs"; {WEATHER_ATTRIBUTION}.*\n')
    add("Compared data:\n")
    items = [
        f"- **generated**: the default generated files cleaned by `data_cleaning` (its "
        f"`clean_counts`, built from `raw_counts`, `raw_weather` and `raw_school_calendar`), "
        f"{gen.rows:,} rows, {gen.counters} counters, {gen_counts.period} (local dates).",
        f"- **real 2020-21**: `../shared/data/{REAL_COUNTS}`, real hourly counts of "
        f"{real.counters} counters, {real.rows:,} rows, {real_counts.period}; `date` is naive "
        "UTC and is converted to Europe/Paris.",
    ]
    if ref is not None and ref_counts is not None:
        items.append(
            f"- **real 2024, 1 counter** (reference for a year without lockdown): "
            f"`../shared/data/{REAL_2024}`, Totem 73 boulevard de Sébastopol N-S, "
            f"{ref.rows:,} rows, {ref_counts.period}."
        )
    if real_weather is not None:
        items.append(
            f"- **real weather**: `../shared/data/{REAL_SYNOP}`, Météo-France SYNOP of "
            "Paris-Orly, read as the calibration reads it, September 2020 to August 2021 "
            "(the real counts' year)."
        )
    add("\n".join(items) + "\n")
    add(
        "Weekday means Monday to Friday outside French public holidays; weekend means "
        "Saturday and Sunday. Both hourly profiles are divided by the same weekday mean, so "
        "the weekend curve also shows how much lower weekend traffic is. All hours count, "
        "outage zeros included.\n"
    )
    add("### Why the real year is used through its drivers\n")
    add(
        "The real 2020-21 year is not a normal year: Paris had a 21h curfew from 17 October "
        "2020, a lockdown from 30 October to 15 December 2020, then curfews at 20h, at 18h "
        "(from 16 January 2021) and at 19h (from 20 March), moved to 21h on 19 May and to "
        "23h on 9 June before they ended on 20 June 2021, with a third, lighter lockdown in "
        "April 2021. Its monthly profile is therefore distorted (a very high September 2020, "
        "low November and December) and its evening traffic after 19h is depressed for half "
        "the year. The generator takes the **hourly shape** from these real counts "
        "(`WEEKDAY_PROFILE` and `WEEKEND_PROFILE` in `sites.py` were measured on them) and "
        "fits the **effect of each driver** on them with the lockdowns and curfews as "
        "drivers of their own, so that they do not leak into the weather and calendar "
        "effects; it does not copy the real months. "
        + (
            "The generated year has no restriction in force, and its seasons come from its "
            "weather, daylight and holidays. "
            if months.restricted_hours == 0
            else f"{months.restricted_hours:,} generated hours have a lockdown or curfew in "
            "force; the other seasons come from the weather, daylight and holidays. "
        )
        + "Its **level** is calibrated to the full 2024-25 export "
        f"(`mean_hourly_count: {generator['mean_hourly_count']}`): the README of "
        f"`../shared/data/` gives a mean hourly count of {EXPORT_2024_MEAN} and a median of "
        f"{EXPORT_2024_MEDIAN:.0f} over 950,543 rows. The real 2020-21 counts are lower "
        "(fewer, different counters and the lockdowns), so the count distributions below "
        "are compared both in counts and relative to their own mean.\n"
    )

    add("### Hourly profiles and peaks\n")
    peaks = [
        [
            "weekday morning peak (hour, height)",
            f"{n['gen_morning']}h, {_f(n['gen_morning_height'])}",
            f"{n['real_morning']}h, {_f(n['real_morning_height'])}",
        ],
        [
            "weekday evening peak (hour, height)",
            f"{n['gen_evening']}h, {_f(n['gen_evening_height'])}",
            f"{n['real_evening']}h, {_f(n['real_evening_height'])}",
        ],
        [
            "weekend peak (hour, height)",
            f"{n['gen_weekend']}h, {_f(n['gen_weekend_height'])}",
            f"{n['real_weekend']}h, {_f(n['real_weekend_height'])}",
        ],
        ["weekend mean / weekday mean", _f(gen.weekend.mean()), _f(real.weekend.mean())],
    ]
    add(_table(["", "generated", "real 2020-21"], peaks) + "\n")
    add(
        f"Correlation of the generated and real hourly profiles (24 values each): weekday "
        f"**{n['corr_weekday']:.3f}**, weekend **{n['corr_weekend']:.3f}**, both together "
        f"(48 values) **{n['corr_both']:.3f}**. Day-of-week profiles: "
        f"{n['corr_day_of_week']:.3f}.\n"
    )
    header = ["hour", "generated weekday", "real weekday", "generated weekend", "real weekend"]
    if has_ref:
        header.append("real 2024, 1 counter, weekday")
    rows = []
    for h in range(24):
        row = [
            f"{h:02d}h",
            _f(gen.weekday[h]),
            _f(real.weekday[h]),
            _f(gen.weekend[h]),
            _f(real.weekend[h]),
        ]
        if has_ref:
            row.append(_f(ref.weekday[h]))
        rows.append(row)
    add("Mean count per local hour divided by the weekday mean:\n")
    add(_table(header, rows) + "\n")

    add("### Day-of-week profile\n")
    add("Mean count per day of the week divided by the overall mean:\n")
    header = ["", *DAY_NAMES]
    rows = [
        ["generated", *(_f(v) for v in gen.day_of_week)],
        ["real 2020-21", *(_f(v) for v in real.day_of_week)],
    ]
    if has_ref:
        rows.append(["real 2024, 1 counter", *(_f(v) for v in ref.day_of_week)])
    add(_table(header, rows) + "\n")

    add("### Monthly profile\n")
    add(
        "Mean count per calendar month divided by the overall mean. The generator has **no "
        "month factor**: its months come from the drivers of its drawn weather, the "
        "daylight and the calendars. *Expected from the drivers* is the generator's own "
        "expectation (`expected_counts` in `nodes.py`: counter level x hourly shape x "
        "day-of-week factor x `exp(Σ coefficient × driver)`, before noise, drift and "
        "outages), averaged per month and divided by its yearly mean; *generated* is what "
        "was drawn around it. The real 2020-21 August covers 1-9 August only.\n"
    )
    header = ["", *MONTH_NAMES]
    rows = [
        ["generated", *(_f(v) for v in gen.month)],
        ["expected from the drivers", *(_f(v) for v in months.expected)],
        ["real 2020-21", *(_f(v) for v in real.month)],
    ]
    if has_ref and ref_months is not None:
        rows.append(["real 2024, 1 counter", *(_f(v) for v in ref_months)])
    add(_table(header, rows) + "\n")

    add("#### What makes the generated months\n")
    add(
        "Each driver group's multiplier of the month relative to the year: the month's mean "
        "expected count with the group's coefficients against without them, divided by the "
        "same ratio over the whole year (below 1, the group makes the month quieter than the "
        "year). The groups multiply hour by hour, so their monthly factors multiply to the "
        "expectation only roughly. Below them, what the drivers were in each generated "
        "month (school holiday: share of the month's days; daylight: share of the hours "
        "with the sun up at the counters).\n"
    )
    rows = []
    for group in months.factors.columns:
        factor = months.factors[group]
        if np.allclose(factor, 1.0):
            continue
        rows.append([group, *(_f(v) for v in factor)])
    rows.append(["**all drivers (expectation)**", *(_f(v) for v in months.expected)])
    rows.append(["without any driver (day types only)", *(_f(v) for v in months.profile_only)])
    w, c = months.weather, months.calendar
    rows += [
        ["mean temperature (°C)", *(_f(v, 1) for v in w["temperature_c"])],
        ["rain (mm)", *(_f(v, 0) for v in w["rain_mm"])],
        ["hours with rain", *(_pct(v, 0) for v in w["rain_hours"])],
        ["daylight (share of hours)", *(_pct(v, 0) for v in c["daylight"])],
        ["school holiday (share of days)", *(_pct(v, 0) for v in c["school_holiday"])],
        ["public holidays (days)", *(str(int(v)) for v in c["public_holidays"])],
    ]
    add(_table(["", *MONTH_NAMES], rows) + "\n")
    silent = [g for g in months.factors.columns if np.allclose(months.factors[g], 1.0)]
    if silent:
        add(f"Not shown (never in force in the generated period): {', '.join(silent)}.\n")

    if real_weather is not None:
        real_months = monthly_weather(real_weather, real_weather["ts_local"])
        add("#### Generated weather against the real Paris-Orly year\n")
        add(
            "The weather is a random draw from the climate measured on the real Paris-Orly "
            "file, not a copy of a real year: a different seed draws a different year. "
            "Calendar months of the generated period against September 2020 to August 2021 "
            f"at Paris-Orly (wet day: {WET_DAY_MM:g} mm or more):\n"
        )
        rows = [
            ["mean temperature (°C), generated", *(_f(v, 1) for v in w["temperature_c"])],
            ["mean temperature (°C), real", *(_f(v, 1) for v in real_months["temperature_c"])],
            ["rain (mm), generated", *(_f(v, 0) for v in w["rain_mm"])],
            ["rain (mm), real", *(_f(v, 0) for v in real_months["rain_mm"])],
            ["wet days, generated", *(str(int(v)) for v in w["wet_days"])],
            ["wet days, real", *(str(int(v)) for v in real_months["wet_days"])],
        ]
        add(_table(["", *MONTH_NAMES], rows) + "\n")
        add(
            f"Over the year: generated {_weather_year(months.weather)}; "
            f"real {_weather_year(real_months)}.\n"
        )

    add("### Count distribution\n")
    header = ["", "generated", "real 2020-21", "2024-25 export (README)"]
    rows = [
        [f"q{int(round(100 * q))}", _f(gen.quantiles[q], 0), _f(real.quantiles[q], 0), ""]
        for q in QUANTILES
    ]
    rows[2][3] = f"{EXPORT_2024_MEDIAN:.0f}"
    rows += [
        ["mean", _f(gen.mean, 1), _f(real.mean, 1), f"{EXPORT_2024_MEAN}"],
        [
            "median / mean",
            _f(gen.quantiles[0.5] / gen.mean),
            _f(real.quantiles[0.5] / real.mean),
            _f(EXPORT_2024_MEDIAN / EXPORT_2024_MEAN),
        ],
        ["q90 / mean", _f(gen.quantiles[0.9] / gen.mean), _f(real.quantiles[0.9] / real.mean), ""],
        [
            "q99 / mean",
            _f(gen.quantiles[0.99] / gen.mean),
            _f(real.quantiles[0.99] / real.mean),
            "",
        ],
        ["share of zeros", _pct(gen.zero_share), _pct(real.zero_share), ""],
    ]
    add(_table(header, rows) + "\n")

    add("### Counter means\n")
    add("Quantiles of the counters' mean hourly counts, in counts and relative to their mean:\n")
    header = ["", "counters", "min", *(f"q{int(round(100 * q))}" for q in COUNTER_QUANTILES), "max"]
    rows = []
    for label, prof in (("generated", gen), ("real 2020-21", real)):
        cm = prof.counter_means
        qs = cm.quantile(list(COUNTER_QUANTILES))
        rows.append(
            [label, str(prof.counters), _f(cm.min(), 1), *(_f(v, 1) for v in qs), _f(cm.max(), 1)]
        )
        rel = cm / cm.mean()
        qr = rel.quantile(list(COUNTER_QUANTILES))
        rows.append([f"{label}, / mean", "", _f(rel.min()), *(_f(v) for v in qr), _f(rel.max())])
    add(_table(header, rows) + "\n")

    add("### Reading the comparison\n")
    add(_reading(gen, real, ref, ref_months, n, months, real_weather))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out), encoding="utf-8")


def _day_of_year(day: float) -> str:
    """``27 July`` for day 208 (of a non-leap year)."""
    stamp = pd.Timestamp("2023-01-01") + pd.Timedelta(days=round(float(day)) - 1)
    return f"{stamp.day} {stamp:%B}"


def _effects(coefficients: dict[str, float]) -> str:
    """The current coefficients as multipliers of the expected count, in words."""
    b = coefficients

    def at(celsius: float) -> float:
        d = celsius - REFERENCE_TEMPERATURE_C
        return float(np.exp(b["temperature"] * d + b["temperature_squared"] * d**2))

    top = REFERENCE_TEMPERATURE_C - b["temperature"] / (2 * b["temperature_squared"])
    parts = [
        f"temperature {_x(at(0))} at 0 °C, {_x(at(5))} at 5 °C and {_x(at(25))} at 25 °C "
        f"against {REFERENCE_TEMPERATURE_C:g} °C"
        + (f" (a parabola with its top at {top:.1f} °C)" if b["temperature_squared"] < 0 else ""),
        f"rain in the hour {_x(np.exp(b['rain_hour']))}, and "
        f"{_x(np.exp(b['rain_last_3h'] * np.log1p(1.0)))} for 1 mm over the last 3 hours, "
        f"{_x(np.exp(b['rain_last_3h'] * np.log1p(4.0)))} for 4 mm",
        f"daylight {_x(np.exp(b['daylight']))}",
        f"school holidays {_x(np.exp(b['school_holiday']))}",
        f"a public holiday {_x(np.exp(b['public_holiday']))} against a Sunday",
        f"a bridge day {_x(np.exp(b['bridge_day']))}",
        f"a lockdown {_x(np.exp(b['lockdown']))}",
        f"a curfew {_x(np.exp(b['curfew']))}",
    ]
    return "; ".join(parts)


def _restriction_span(restrictions: list[dict] | None) -> str:
    if not restrictions:
        return "an empty table"
    starts = sorted(str(r["start"]) for r in restrictions)
    ends = sorted(str(r.get("end") or r["start"]) for r in restrictions)
    kinds = pd.Series([str(r["kind"]) for r in restrictions]).value_counts()
    counted = ", ".join(_plural(count, f"{kind} period", "one") for kind, count in kinds.items())
    return f"{counted} from {starts[0]} to {ends[-1]}"


def _generator_description(
    p: dict,
    params: dict,
    quirks: dict,
    agreement: dict[str, int],
    months: Months,
    calibration: str,
) -> str:
    n_sites = int(p["n_sites"])
    two_way = 1 - float(p["single_counter_share"])
    expected_counters = round(n_sites * (2 - float(p["single_counter_share"])))
    w = p["weather"]
    damping = float(w["wet_day_damping"])
    damping_text = "halved" if damping == 0.5 else f"damped by {damping:.0%}"
    school = p["school_calendar"]
    years = sorted({str(period["school_year"]) for period in school["periods"]})
    coefficients = check_coefficients(p["coefficients"])
    restrictions = parameter(params, "params:data_cleaning.restrictions")
    weekday_top = (
        int(np.argmax(WEEKDAY_PROFILE[:12])),
        int(np.argmax(WEEKDAY_PROFILE[12:])) + 12,
    )
    second_morning = int(np.argsort(WEEKDAY_PROFILE[:12])[-2])
    weekend_top = int(np.argmax(WEEKEND_PROFILE))
    y = months.year
    drawn = (
        f"{y['temperature_c']:.1f} °C on average ({y['temperature_min']:.1f} to "
        f"{y['temperature_max']:.1f} °C), {y['rain_mm']:.0f} mm of rain on "
        f"{int(y['wet_days'])} wet days (1 mm or more), rain in {y['rain_hours']:.0%} of the hours"
    )
    restricted = (
        "none of the default period's hours has one in force"
        if months.restricted_hours == 0
        else f"{months.restricted_hours:,} hours of the generated period have one in force"
    )
    dow = ", ".join(f"{day} {factor:.2f}" for day, factor in zip(DAY_NAMES, DOW_FACTORS))
    text = f"""\
**Counters and sites.** {n_sites} sites, each on a different street drawn from
{len(SITES)} real Paris streets (`SITES` in `sites.py`, with positions close to where
counters stand: boulevard de Sébastopol, rue de Rivoli, quai d'Orsay, ...), named like
the portal's (`Totem 73 boulevard de Sébastopol`, `Face au 8 quai d'Orsay`). About
{two_way:.0%} of the sites have two counters, one per direction, whose names end with the direction
(`N-S`/`S-N`, `E-O`/`O-E`, `NE-SO`/`SO-NE`, `NO-SE`/`SE-NO`); the others have one: about
{expected_counters} counters in all. Each site gets a log-normal traffic level (sigma
{p["level_sigma"]}, plus a per-counter spread), a leisure share (higher on quays) and a
morning/evening bias that is opposite for the two directions of a site (people ride in
one way and back the other).

**Time.** Hourly, `days` local days from `start` (now {p["days"]} days from {p["start"]};
`days: 730` gives two years, and the weather and calendars cover the whole period), laid
out in UTC so that the spring clock-change day has 23 local hours and the autumn one 25,
as in the real export.

**Weather, drawn first** (`climate.py`, parameters `synthetic_raw.weather`, the climate
measured on the real Paris-Orly file by `scripts/calibrate_generator.py`). Hour by hour in
UTC: a seasonal temperature cycle (mean {float(w["mean_c"]):.1f} °C,
±{float(w["seasonal_amplitude_c"]):.1f} °C, warmest around
{_day_of_year(w["warmest_day_of_year"])}), a daily cycle
(±{float(w["daily_amplitude_winter_c"]):.1f} °C in winter,
±{float(w["daily_amplitude_summer_c"]):.1f} °C in summer, warmest at
{float(w["warmest_hour_utc"]):g}h UTC, {damping_text} on wet days), day-to-day anomalies
that persist (AR(1): {float(w["anomaly_persistence"]):.2f} from one day's mean to the next,
standard deviation {float(w["anomaly_sd_c"]):.1f} °C) and a little hourly noise; wet and
dry days from a Markov chain (a wet day follows a dry one with probability
{float(w["wet_after_dry"]):.2f}, a wet one {float(w["wet_after_wet"]):.2f};
the chances of a wet day {float(w["wet_season_amplitude"]):.0%} higher in mid-January and as
much lower in mid-July), rain in spells of about {float(w["rain_spell_hours"]):g} hours on
{float(w["rain_hour_share"]):.0%} of a wet day's hours, gamma-distributed amounts
({float(w["rain_mm_per_hour"]):.2f} mm per rainy hour on average, heavier in summer); wind
(mean {float(w["wind_mean_ms"]):.1f} m/s) and humidity (mean
{float(w["humidity_mean_pct"]):.0f}%). The default period drew {drawn}. It is written as
Météo-France **"Données SYNOP essentielles OMM"** reports of station {w["station"]}
(Paris-Orly) in the legacy monthly archives' format, which
`bike_traffic.exogenous.datasets.SynopDataset` reads and writes: `;`-separated, `mq` for a
missing value, a `;` ending every line, the 59 columns of the format with `numer_sta`
`{w["station"]}`, `date` as `YYYYMMDDHHMMSS` (UTC), `t` in kelvin, `rr1`, `rr3`, `rr6`,
`rr12`, `rr24` the rain of the past 1 to 24 hours (`-0.1` for a trace below 0.1 mm), `ff`
(m/s) and `u` (%), every other column `mq`. One report every 3 hours from
{_plural(w["margin_days"], "day")} before the first count to {_plural(w["margin_days"], "day")}
after the last, with the real file's defects: **{w["missing_reports"]} isolated 3-hour
slots without a report, {_plural(w["duplicated_reports"], "report", "one")} written twice**
(exact copies),
and **months in random order** (the real file comes in monthly blocks in no order), so that
the cleaning has something to quarantine.

**School calendar.** The real {school["zone"][:1].lower()}{school["zone"][1:]} holiday
periods of {years[0]} to {years[-1]}, copied from the official file into
`synthetic_raw.school_calendar.periods` (public facts, including the spring 2021 break
moved for COVID), written in the official **"Calendrier scolaire"** format
(data.education.gouv.fr, `fr-en-calendrier-scolaire`): `;`-separated, UTF-8, CRLF, the
official header `description;population;start_date;end_date;location;zones;annee_scolaire`,
one row per period and académie of {school["zone"]} ({", ".join(school["academies"])}),
pupils' rows only (`-`, or `Élèves` for the summers since 2020-2021), dates as local
midnight with their offset (`2024-10-19T00:00:00+02:00`; `start_date` the first day off,
`end_date` the day classes resume), every school year that the counting period touches,
rows in random order. A period outside the listed school years stops the run with a
message naming the years to add.

**Counts.** The expected count of a counter and hour is

`level × shape[day type, hour] × day-of-week factor × exp(Σ coefficient × driver)`:

- its **level** (log-normal across counters, scaled so that the mean hourly count is
  `mean_hourly_count`, {p["mean_hourly_count"]});
- its **hourly shape**: on working days the commute profile, with peaks at
  **{weekday_top[0]}-{max(weekday_top[0], second_morning)}h and {weekday_top[1]}h**
  (`WEEKDAY_PROFILE`, measured on the real counts), mixed with the leisure profile by the
  counter's leisure share; on Saturdays, Sundays and public holidays the **afternoon
  leisure** profile (`WEEKEND_PROFILE`, highest at {weekend_top}h);
- a **day-of-week factor** (`DOW_FACTORS` in `nodes.py`: {dow}; public holidays take
  Sunday's);
- the **drivers** (`drivers.py`), each computed as a model can compute it from the raw
  files and public calendars: **temperature** (a parabola around
  {REFERENCE_TEMPERATURE_C:g} °C), **rain this hour** and **in the last 3 hours** (from
  the SYNOP reports made hourly by `exogenous.weather.to_hourly`), **daylight** (the sun
  above the horizon at the counter at mid-hour, `exogenous.daylight`), **zone C school
  holidays** (from the written calendar file,
  `exogenous.calendars.school_holiday_periods`), **public holidays** and **bridge days**
  (`exogenous.calendars`), **lockdown** and **curfew** in force
  (`exogenous.restrictions` on the features' table `data_cleaning.restrictions`:
  {_restriction_span(restrictions)}, so {restricted}). The node `make_drivers` reads
  the drivers back from the written files, so the counts respond to exactly what the files
  show (at the missing 3-hour slots the rain counts as dry). {_agreement_text(agreement)}

With the current coefficients (`synthetic_raw.coefficients`, fitted on the real year: table
below) a driver multiplies the expected count by: {_effects(coefficients)}.

There are **no month factors and no hidden weather**: the seasons come from the drivers
(the monthly profile below shows how). On top of the expectation: a small daily noise
(log-normal, 6%), a slow per-counter drift (±15% a year: road works, new lanes), negative
binomial counts (shape `dispersion`, {p["dispersion"]}), and **counter outages** that set
runs of hours to zero ({p["outages_per_counter"]} runs per counter and year on average,
median length 36 hours, up to 30 days).

{CALIBRATION_SLOT}

**Format.** The export is written as the portal publishes it: the 16 French columns,
`;`-separated, UTF-8, and its quirks:
- about {float(p["missing_id_share"]):.1%} of rows **lack the counter id and coordinates**
  (the real export: {EXPORT_2024_MISSING_ID:.1%});
- **mixed offsets**: local timestamps with `+01:00` or `+02:00`;
- about {float(p["space_timestamp_share"]):.0%} of timestamps with a **space instead of the `T`**
  (`2024-04-01 08:00:00+02:00`), as the portal's API writes them;
- coordinates as one `lat,lon` string, about {float(p["spaced_coordinates_share"]):.0%} of them
  **with a space** after the comma (`48.83504, 2.33314`);
- **counts as ints or floats** (`3` or `3.0`, about {float(p["float_count_share"]):.0%} floats);
- the six photo and URL columns filled for about {float(p["photo_share"]):.0%} of the sites,
  empty for the others;
- **rows unsorted** (a random permutation), so neither time nor counter order can be assumed.
"""
    q = quirks
    table = _table(
        ["", "value"],
        [
            ["`raw_counts`: rows", f"{int(q['rows']):,}"],
            ["counters (names)", str(int(q["counters"]))],
            ["rows without counter id", _pct(q["missing_id"], 2)],
            ["rows without coordinates", _pct(q["missing_coords"], 2)],
            [
                "timestamps with `+01:00` / `+02:00`",
                f"{_pct(q['offset_plus1'])} / {_pct(q['offset_plus2'])}",
            ],
            ["timestamps with a space instead of `T`", _pct(q["space_timestamp"], 2)],
            ["coordinates with a space after the comma", _pct(q["spaced_coords"], 2)],
            ["counts written as floats", _pct(q["float_count"], 2)],
            ["counters whose rows are in time order", _pct(q["counters_sorted"], 0)],
            [
                "`raw_weather`: reports (UTC)",
                f"{int(q['reports']):,}, {q['report_first']} to {q['report_last']}",
            ],
            ["3-hour slots without a report", str(q["missing_slots"])],
            ["reports written twice", str(q["duplicated_reports"])],
            ["months in time order", "yes" if q["months_in_order"] else "no"],
            [
                "`raw_school_calendar`: rows",
                f"{int(q['calendar_rows'])}, school years {q['school_years']}",
            ],
        ],
    )
    text += (
        "\nMeasured in the default generated files (as `synthetic_raw` writes them):\n\n"
        + table
        + "\n"
    )
    head, tail = (text + "\n").split(CALIBRATION_SLOT)
    return _reflow(head) + calibration + _reflow(tail)


def _plural(value: float, unit: str, one: str = "a") -> str:
    """``a day``, ``2 days``, ``1.5 days`` (``one``: the word for a single one)."""
    value = float(value)
    if value == 1:
        return f"{one} {unit}"
    return f"{value:g} {unit}s"


def _reflow(text: str) -> str:
    """One line per paragraph and per list item (the source wraps them for the linter)."""
    blocks = []
    for block in text.split("\n\n"):
        lines = block.split("\n")
        if any(line.startswith(("|", "```", "<!--")) for line in lines):
            blocks.append(block)
            continue
        joined: list[str] = []
        for line in lines:
            if joined and not line.startswith("- "):
                joined[-1] += " " + line.strip()
            else:
                joined.append(line)
        blocks.append("\n".join(joined))
    return "\n\n".join(blocks)


def _agreement_text(agreement: dict[str, int]) -> str:
    hours = agreement["hours"]
    differing = {k: v for k, v in agreement.items() if k != "hours" and v}
    same = [k for k, v in agreement.items() if k != "hours" and not v]
    text = (
        f"Rebuilt by `data_cleaning` from the same files, the features of the {hours:,} "
        "generated hours carry the drivers the counts responded to"
    )
    if not differing:
        return text + " exactly (" + ", ".join(f"`{k}`" for k in same) + ")."
    text += " exactly for " + ", ".join(f"`{k}`" for k in same) + "; "
    text += ", ".join(f"`{k}` differs in {_plural(v, 'hour', 'one')}" for k, v in differing.items())
    if set(differing) <= {"rain_mm", "rain_last_3h_mm"}:
        text += (
            " (the hours of the missing SYNOP reports, where the features take the rain "
            "from the weather climatology while the generator counted them dry)"
        )
    return text + "."


def _reading(
    gen: Profiles,
    real: Profiles,
    ref: Profiles | None,
    ref_months: pd.Series | None,
    n: dict[str, float],
    months: Months,
    real_weather: pd.DataFrame | None,
) -> str:
    late_gen = float(gen.weekday.loc[21:23].mean())
    late_real = float(real.weekday.loc[21:23].mean())
    same_peaks = (n["gen_morning"], n["gen_evening"]) == (n["real_morning"], n["real_evening"])
    flatter = n["gen_morning_height"] < n["real_morning_height"]
    weekend_ratio = (float(gen.weekend.mean()), float(real.weekend.mean()))
    lines = [
        f"- **Weekday peaks**: the generated weekday profile peaks at {n['gen_morning']}h and "
        f"{n['gen_evening']}h, the real one at {n['real_morning']}h and {n['real_evening']}h"
        + (" (same hours)" if same_peaks else " (**different hours: check `WEEKDAY_PROFILE`**)")
        + f"; generated peak heights {_f(n['gen_morning_height'])} and "
        f"{_f(n['gen_evening_height'])} against {_f(n['real_morning_height'])} and "
        f"{_f(n['real_evening_height'])} times the weekday mean"
        + (
            ", a little flatter because each counter mixes commute and leisure traffic and "
            "the two directions of a site lean to opposite peaks, which also lifts the "
            "generated midday."
            if flatter
            else "."
        ),
        f"- **Weekends** peak in the afternoon ({n['gen_weekend']}h generated, "
        f"{n['real_weekend']}h real) with the same shape (correlation "
        f"{n['corr_weekend']:.3f}), but generated weekend traffic is "
        f"{_f(weekend_ratio[0])} of the weekday mean against {_f(weekend_ratio[1])} in the real "
        f"data: Saturday is {_f(gen.day_of_week[5])} of the overall mean against "
        f"{_f(real.day_of_week[5])}"
        + (f" ({_f(ref.day_of_week[5])} on the 2024 counter)" if ref is not None else "")
        + f"; `DOW_FACTORS` gives Saturday {DOW_FACTORS[5]:.2f}, the highest factor of the "
        "week, a candidate to lower. Tuesday to Thursday are the busiest days in both.",
        f"- **Late evening**: 21-23h on weekdays is {_f(late_gen)} of the weekday mean in the "
        f"generated data and {_f(late_real)} in the real 2020-21 data, which the curfews "
        "depressed"
        + (
            f"; the one real 2024 counter shows {_f(float(ref.weekday.loc[21:23].mean()))} "
            "(a central street, so not conclusive, but normal-year evenings may be busier "
            "than generated: the hourly shape comes from the curfew year, and evenings are "
            "dark most of the year)."
            if ref is not None
            else "."
        ),
        _months_reading(gen, real, ref_months, months),
    ]
    if real_weather is not None:
        lines.append(_weather_reading(months, real_weather))
    lines.append(
        f"- **Distribution**: generated mean {gen.mean:.1f} (the 78.5 target less the outage "
        f"zeros) and median {gen.quantiles[0.5]:.0f}; the 2024-25 export has "
        f"{EXPORT_2024_MEAN} and {EXPORT_2024_MEDIAN:.0f}. Relative to their means the "
        f"generated and real 2020-21 quantiles are close (median/mean "
        f"{_f(gen.quantiles[0.5] / gen.mean)} against {_f(real.quantiles[0.5] / real.mean)}, "
        f"q99/mean {_f(gen.quantiles[0.99] / gen.mean)} against "
        f"{_f(real.quantiles[0.99] / real.mean)}). The real data has more zeros "
        f"({_pct(real.zero_share)} against {_pct(gen.zero_share)}): quieter counters at "
        "night (the quietest real counter averages "
        f"{real.counter_means.min():.1f} an hour, the quietest generated one "
        f"{gen.counter_means.min():.1f}), curfew nights and longer outages."
    )
    return "\n".join(lines) + "\n"


def _range(series: pd.Series) -> str:
    """``x0.75 (Jan) to x1.19 (Jul)``."""
    low, high = series.idxmin(), series.idxmax()
    return f"{_x(series[low])} ({_month_name(low)}) to {_x(series[high])} ({_month_name(high)})"


def _months_reading(
    gen: Profiles, real: Profiles, ref_months: pd.Series | None, months: Months
) -> str:
    expected = months.expected
    gap = (gen.month - expected).abs()
    factors = months.factors.loc[:, ~np.isclose(months.factors, 1.0).all(axis=0)]
    spread = (factors.max() - factors.min()).sort_values(ascending=False)
    order = [f"{group} ({_range(factors[group])})" for group in spread.index]
    winter = [12, 1, 2]

    def span(values: pd.Series) -> str:
        part = values.loc[winter].dropna()
        if len(part) == 1:
            return f"{_f(part.iloc[0])} ({_month_name(part.index[0])} only)"
        return f"{_f(part.min())}-{_f(part.max())}" if len(part) else "n/a"

    has_ref = ref_months is not None and ref_months.notna().any()
    text = (
        "- **Months** come from the drivers alone, not from a hidden month factor: the "
        f"generator's expectation runs from {_range(expected)} of the year's mean, and the "
        f"drawn months stay within {gap.max():.2f} of it (largest gap in "
        f"{_month_name(gap.idxmax())}: daily noise, drift and outages). By how much each "
        "group moves the months: " + "; ".join(order) + ". Against the real years: winter "
        f"(December to February) {span(gen.month)} generated, {span(real.month)} in 2020-21"
        + (f", {span(ref_months)} on the 2024 counter" if has_ref else "")
        + f"; June {_f(gen.month[6])} against {_f(real.month[6])}"
        + (f" and {_f(ref_months[6])}" if has_ref else "")
        + f"; September {_f(gen.month[9])} against {_f(real.month[9])} (September 2020, "
        "before the curfews)" + (f" and {_f(ref_months[9])}" if has_ref else "") + "."
    )
    real_august = [real.month[8]] + ([ref_months[8]] if has_ref else [])
    real_august = [v for v in real_august if pd.notna(v)]
    school = factors["school holidays"] if "school holidays" in factors else None
    if real_august and gen.month[8] > max(real_august) + 0.05 and school is not None:
        text += (
            f" **August is too busy**: {_f(gen.month[8])} generated against "
            f"{_f(real.month[8])} for 1-9 August 2021"
            + (
                f" and {_f(ref_months[8])} in August 2024 on the one counter"
                if has_ref and pd.notna(ref_months[8])
                else ""
            )
            + ". The school holidays lower July and August about alike (school factor "
            f"{_x(school[7])} and {_x(school[8])}) while the warm weather lifts them "
            f"(temperature {_x(factors['temperature'][8])} in August): a single "
            "school-holiday coefficient, fitted on a real year whose counts stop on 9 "
            "August, cannot carry the deeper August exodus of Paris."
        )
    return text + " A different seed draws a different weather year, so its months differ."


def _weather_reading(months: Months, real_weather: pd.DataFrame) -> str:
    gen_w = months.weather
    real_w = monthly_weather(real_weather, real_weather["ts_local"])
    diff = gen_w["temperature_c"] - real_w["temperature_c"]
    worst = int(diff.abs().idxmax())
    temperature = months.factors["temperature"]
    return (
        f"- **Weather**: the drawn year has {_weather_year(gen_w)}, the real Paris-Orly year "
        f"{_weather_year(real_w)}. Month by month the temperatures differ by "
        f"{diff.abs().mean():.1f} °C on average, most in {_month_name(worst)} "
        f"({_f(gen_w['temperature_c'][worst], 1)} °C generated, "
        f"{_f(real_w['temperature_c'][worst], 1)} °C real), a random draw: the day-to-day "
        "anomalies persist, so a month can sit a few degrees off its normal, and the "
        f"temperature factor of that month ({_x(temperature[worst])}) follows it."
    )


def _weather_year(weather: pd.DataFrame) -> str:
    """``11.9 °C on average, 724 mm of rain on 118 wet days`` for a year of months."""
    return (
        f"{weather['temperature_c'].mean():.1f} °C on average (mean of the months), "
        f"{weather['rain_mm'].sum():.0f} mm of rain on {int(weather['wet_days'].sum())} wet days"
    )


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--real-dir",
        type=Path,
        default=ROOT.parent / "shared" / "data",
        help="folder of the real reference data (default: ../shared/data)",
    )
    parser.add_argument(
        "--figure", type=Path, default=ROOT / "docs" / "figures" / "synthetic_vs_real.png"
    )
    parser.add_argument(
        "--doc",
        type=Path,
        default=ROOT / "docs" / "synthetic_data.md",
        help="the page to write; its calibration section is kept as it is",
    )
    args = parser.parse_args(argv)

    real_counts = load_real(args.real_dir)
    ref_counts = load_real_2024(args.real_dir)
    real_weather = load_real_weather(args.real_dir)
    params = config()["parameters"]  # as `kedro run` loads them
    print("Generating the default raw files (synthetic_raw) and cleaning them (data_cleaning) ...")
    generated = generate(params)
    quirks = raw_quirks(generated)
    agreement = feature_agreement(generated)
    months = driver_months(generated, params["synthetic_raw"])
    gen_counts = generated_counts(generated.clean)
    del generated

    gen, real = profiles(gen_counts), profiles(real_counts)
    ref = profiles(ref_counts) if ref_counts is not None else None
    ref_months = None
    if ref_counts is not None and ref is not None:
        ref_months = ref.month.where(months_covered(ref_counts) >= MIN_MONTH_HOURS)
        # renormalise on the well-covered months only
        covered = ref_counts.frame[ref_counts.frame["month"].isin(ref_months.dropna().index)]
        ref_months = (
            covered.groupby("month")["count"].mean().reindex(MONTHS) / covered["count"].mean()
        )
    numbers = summary_numbers(gen, real)

    draw_figure(
        gen=gen,
        real=real,
        ref=ref,
        gen_counts=gen_counts,
        real_counts=real_counts,
        ref_months=ref_months,
        months=months,
        real_weather=real_weather,
        path=args.figure,
    )
    write_markdown(
        path=args.doc,
        figure=args.figure,
        gen=gen,
        real=real,
        ref=ref,
        ref_months=ref_months,
        gen_counts=gen_counts,
        real_counts=real_counts,
        ref_counts=ref_counts,
        numbers=numbers,
        quirks=quirks,
        agreement=agreement,
        months=months,
        real_weather=real_weather,
        params=params,
    )

    print(f"generated: {gen.rows:,} rows, {gen.counters} counters, {gen_counts.period}")
    print(f"real:      {real.rows:,} rows, {real.counters} counters, {real_counts.period}")
    print(
        f"hourly profile correlation: weekday {numbers['corr_weekday']:.3f}, "
        f"weekend {numbers['corr_weekend']:.3f}, both {numbers['corr_both']:.3f}"
    )
    for who in ("gen", "real"):
        print(
            f"{who:>4} weekday peaks: morning {numbers[who + '_morning']}h "
            f"({numbers[who + '_morning_height']:.2f}), evening {numbers[who + '_evening']}h "
            f"({numbers[who + '_evening_height']:.2f})"
        )
    print(
        f"mean / median / zeros: generated {gen.mean:.1f} / {gen.quantiles[0.5]:.0f} / "
        f"{gen.zero_share:.1%}, real {real.mean:.1f} / {real.quantiles[0.5]:.0f} / "
        f"{real.zero_share:.1%}"
    )
    print("monthly level     " + " ".join(f"{name:>5}" for name in MONTH_NAMES))
    rows = [("generated", gen.month), ("expected", months.expected), ("real 20-21", real.month)]
    if ref_months is not None:
        rows.append(("real 2024", ref_months))
    for label, values in rows:
        print(f"{label:<17} " + " ".join(f"{_f(v):>5}" for v in values))
    print(f"wrote {args.figure}")
    print(f"wrote {args.doc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
