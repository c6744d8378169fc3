"""Calibrate the generator on the real year: count coefficients and the Paris-Orly climate.

Offline, on ``../shared/data/`` (``--real-dir`` to point elsewhere; exit status 2 when the
files are absent):

* the real hourly counts of 52 Paris counters, 2020-09-01 to 2021-08-09
  (``paris_counts_2020-09_2021-08.parquet``, Ville de Paris, ODbL; ``date`` naive UTC);
* the real Paris-Orly weather (``synop_07149_paris-orly_2020-09_2021-10.csv``, Météo-France),
  read by ``SynopDataset`` and made hourly by ``exogenous.weather``;
* the official school calendar (``fr-en-calendrier-scolaire.csv``), zone C;
* public holidays and bridge days (``exogenous.calendars``), daylight at each counter
  (``exogenous.daylight``) and the restriction table of the parameters
  (``params:data_cleaning.restrictions``, the one the generator applies).

It fits a Poisson regression of the hourly count on the drivers of
``bike_traffic.pipelines.synthetic_raw.drivers`` with one fixed effect per counter × local
hour × day type (working day, Saturday, Sunday or public holiday): the fixed effects are
profiled out exactly (their maximum-likelihood value given the coefficients is closed-form)
and the coefficients fitted by scikit-learn's ``PoissonRegressor`` with the fixed effects as
an offset, the two steps alternated until they agree. Counter-days with no count at all
(outages) are left out. It prints each coefficient with two standard errors: Poisson (far
too small: the counts are over-dispersed and hours of a day move together) and clustered by
day (the confidence hint to read), with a 95% interval from the latter. It also measures the
climate the weather generator needs (temperature cycles, persistence, wet-day chain, rain,
wind, humidity).

``--write`` puts the coefficients and the climate into
``conf/base/parameters_synthetic_raw.yml`` (between its ``BEGIN``/``END`` comments) and the
coefficient table into ``docs/synthetic_data.md``::

    .venv/bin/python scripts/calibrate_generator.py            # print only
    .venv/bin/python scripts/calibrate_generator.py --write
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from script_support import (  # noqa: E402
    ROOT,
    config,
    markdown_table,
    parameter,
    replace_section,
)

from bike_traffic.exogenous.calendars import school_holiday_periods  # noqa: E402
from bike_traffic.exogenous.datasets import SynopDataset  # noqa: E402
from bike_traffic.exogenous.weather import normalize_synop, to_hourly  # noqa: E402
from bike_traffic.pipelines.synthetic_raw.drivers import (  # noqa: E402
    COEFFICIENT_NAMES,
    REFERENCE_TEMPERATURE_C,
    day_types,
    daylight_matrix,
    driver_terms,
    holidays_around,
    hourly_drivers,
    local_dates,
)

REAL_COUNTS = "paris_counts_2020-09_2021-08.parquet"
REAL_SYNOP = "synop_07149_paris-orly_2020-09_2021-10.csv"
REAL_CALENDAR = "fr-en-calendrier-scolaire.csv"
STATION = "07149"
#: The restriction table: the parameter the generator's ``make_drivers`` node reads.
RESTRICTIONS = "params:data_cleaning.restrictions"
PARAMETERS = ROOT / "conf" / "base" / "parameters_synthetic_raw.yml"
DOC = ROOT / "docs" / "synthetic_data.md"
DOC_START = "<!-- BEGIN calibration: written by scripts/calibrate_generator.py --write -->"
DOC_END = "<!-- END calibration -->"
COMMAND = ".venv/bin/python scripts/calibrate_generator.py --write"
#: A day with at least this much rain (mm) is a wet day (the climatological convention).
WET_DAY_MM = 1.0
#: What each coefficient multiplies, for the tables.
MEANING = {
    "temperature": f"per °C above {REFERENCE_TEMPERATURE_C:g} °C (slope there)",
    "temperature_squared": f"per (°C - {REFERENCE_TEMPERATURE_C:g})²",
    "rain_hour": "it rains in the hour",
    "rain_last_3h": "per log(1 + mm) of the last 3 hours",
    "daylight": "sun above the horizon at the counter",
    "school_holiday": "zone C school holiday",
    "public_holiday": "public holiday (vs a Sunday)",
    "bridge_day": "bridge day",
    "lockdown": "lockdown in force",
    "curfew": "curfew in force",
}
FLAGS = ("rain_hour", "daylight", "school_holiday", "public_holiday", "bridge_day")
FLAGS += ("lockdown", "curfew")


def load_design(real_dir: Path, restrictions: list) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """The real counts with their drivers and fixed-effect cells.

    Returns:
        ``(rows, X, names)``: one row per counter and hour (``count``, ``cell``,
        ``local_date``), the driver matrix in the order of :data:`COEFFICIENT_NAMES`.
    """
    counts = pd.read_parquet(
        real_dir / REAL_COUNTS,
        columns=["counter_name", "bike_count", "date", "latitude", "longitude"],
    )
    stamps = pd.DatetimeIndex(counts["date"]).tz_localize("UTC")
    hour_code, hours = pd.factorize(stamps, sort=True)

    tidy, quarantine = normalize_synop(
        SynopDataset(filepath=str(real_dir / REAL_SYNOP)).load(), STATION
    )
    calendar = pd.read_csv(
        real_dir / REAL_CALENDAR, sep=";", dtype=str, keep_default_na=False, encoding="utf-8"
    )
    drivers = hourly_drivers(
        hours, to_hourly(tidy), school_holiday_periods(calendar, "C"), restrictions, REAL_SYNOP
    )
    terms = driver_terms(drivers)
    places = counts[["latitude", "longitude"]].astype(float)
    place_code, unique_places = pd.factorize(pd.MultiIndex.from_frame(places))
    light = daylight_matrix([p[0] for p in unique_places], [p[1] for p in unique_places], hours)
    kinds = day_types(hours, holidays_around(local_dates(hours)))
    local_hour = hours.tz_convert("Europe/Paris").hour.to_numpy()

    columns = [
        light[place_code, hour_code].astype(float) if name == "daylight" else terms[name][hour_code]
        for name in COEFFICIENT_NAMES
    ]
    rows = pd.DataFrame(
        {
            "counter": counts["counter_name"].astype(str).to_numpy(),
            "count": counts["bike_count"].to_numpy(dtype=float),
            "local_date": local_dates(hours)[hour_code],
            "hour": local_hour[hour_code],
            "day_type": kinds[hour_code],
        }
    )
    rows["cell"] = pd.factorize(
        rows["counter"] + "|" + rows["hour"].astype(str) + "|" + rows["day_type"].astype(str)
    )[0]
    # outages: counter-days without a single count; cells without a count say nothing
    day_total = rows.groupby(["counter", "local_date"])["count"].transform("sum")
    cell_total = rows.groupby("cell")["count"].transform("sum")
    keep = ((day_total > 0) & (cell_total > 0)).to_numpy()
    print(
        f"real counts: {len(rows):,} rows, {rows['counter'].nunique()} counters, "
        f"{pd.Timestamp(hours[0]).date()} to {pd.Timestamp(hours[-1]).date()} (UTC); "
        f"{(~keep).sum():,} rows of counter-days without a count left out; "
        f"{len(quarantine)} SYNOP row(s) set aside"
    )
    rows = rows.loc[keep].reset_index(drop=True)
    rows["cell"] = pd.factorize(rows["cell"])[0]
    return rows, np.column_stack(columns)[keep], list(COEFFICIENT_NAMES)


def fit_poisson_fixed_effects(
    y: np.ndarray, X: np.ndarray, cells: np.ndarray, clusters: np.ndarray, tol: float = 1e-6
) -> pd.DataFrame:
    """Poisson regression of ``y`` on ``X`` with one fixed effect per cell.

    Alternates the closed-form fixed effects (``log(Σ y / Σ exp(Xβ))`` per cell) and
    scikit-learn's ``PoissonRegressor`` for ``β`` with the fixed effects as an offset (the
    rate ``y / exp(offset)`` weighted by ``exp(offset)`` has the same likelihood equations).

    Returns:
        Per coefficient: ``coefficient``, ``se_poisson`` and ``se_day`` (clustered by
        ``clusters``), from the information matrix with the fixed effects profiled out.
    """
    from sklearn.linear_model import PoissonRegressor

    n_cells = int(cells.max()) + 1
    y_sums = np.bincount(cells, y, n_cells)
    beta = np.zeros(X.shape[1])
    model = PoissonRegressor(
        alpha=0.0, fit_intercept=False, solver="newton-cholesky", tol=1e-10, warm_start=True
    )
    for iteration in range(1, 201):
        fixed = np.log(y_sums / np.bincount(cells, np.exp(X @ beta), n_cells))
        exposure = np.exp(fixed[cells])
        new = model.fit(X, y / exposure, sample_weight=exposure).coef_.copy()
        change = np.abs(new - beta).max()
        beta = new
        if change < tol:
            break
    print(f"Poisson fit: {iteration} alternations, last change {change:.1e}")
    fixed = np.log(y_sums / np.bincount(cells, np.exp(X @ beta), n_cells))
    mu = np.exp(X @ beta + fixed[cells])
    weights = np.bincount(cells, mu, n_cells)
    means = np.column_stack([np.bincount(cells, mu * X[:, j], n_cells) for j in range(X.shape[1])])
    within = X - (means / weights[:, None])[cells]
    information = (within * mu[:, None]).T @ within
    inverse = np.linalg.inv(information)
    scores = np.zeros((int(clusters.max()) + 1, X.shape[1]))
    np.add.at(scores, clusters, within * (y - mu)[:, None])
    clustered = inverse @ (scores.T @ scores) @ inverse
    return pd.DataFrame(
        {
            "coefficient": beta,
            "se_poisson": np.sqrt(np.diag(inverse)),
            "se_day": np.sqrt(np.diag(clustered)),
        }
    )


def calibrate_counts(real_dir: Path, restrictions: list) -> pd.DataFrame:
    """The coefficient table: fit, 95% interval (clustered by day) and support."""
    rows, X, names = load_design(real_dir, restrictions)
    days = pd.factorize(rows["local_date"])[0]
    table = fit_poisson_fixed_effects(rows["count"].to_numpy(), X, rows["cell"].to_numpy(), days)
    table.index = names
    table["low"] = table["coefficient"] - 1.96 * table["se_day"]
    table["high"] = table["coefficient"] + 1.96 * table["se_day"]
    on = pd.DataFrame(X[:, [names.index(n) for n in FLAGS]] > 0, columns=list(FLAGS))
    table["days"] = pd.Series(
        {name: pd.Series(rows["local_date"])[on[name].to_numpy()].nunique() for name in FLAGS}
    )
    table["share_of_rows"] = pd.Series({name: on[name].mean() for name in FLAGS})
    optimum = REFERENCE_TEMPERATURE_C - table.loc["temperature", "coefficient"] / (
        2 * table.loc["temperature_squared", "coefficient"]
    )
    print(f"{len(rows):,} rows, {rows['cell'].nunique():,} counter x hour x day-type cells")
    print(f"temperature with the most riders (top of the parabola): {optimum:.1f} °C")
    return table


def calibrate_climate(real_dir: Path, damping: float) -> dict[str, float]:
    """The climate block of ``synthetic_raw.weather``, measured on the Paris-Orly file."""
    tidy, _ = normalize_synop(SynopDataset(filepath=str(real_dir / REAL_SYNOP)).load(), STATION)
    hourly = to_hourly(tidy).set_index("timestamp_utc")
    daily = hourly.resample("D").agg({"temperature_c": "mean", "rain_mm": "sum"})
    daily = daily.loc[hourly["temperature_c"].resample("D").count() == 24]
    day_of_year = daily.index.day_of_year.to_numpy(dtype=float)
    angle = 2 * np.pi * day_of_year / 365.25
    design = np.column_stack([np.ones_like(angle), np.cos(angle), np.sin(angle)])
    mean, a, b = np.linalg.lstsq(design, daily["temperature_c"].to_numpy(), rcond=None)[0]
    anomaly = daily["temperature_c"].to_numpy() - design @ np.array([mean, a, b])
    wet = (daily["rain_mm"] >= WET_DAY_MM).to_numpy()
    wet_after_dry = (wet[1:] & ~wet[:-1]).sum() / (~wet[:-1]).sum()
    wet_after_wet = (wet[1:] & wet[:-1]).sum() / wet[:-1].sum()

    hour = hourly.index.hour.to_numpy()
    profile = hourly.groupby(hour)["temperature_c"].mean()
    phase = np.angle(np.sum(profile.to_numpy() * np.exp(1j * 2 * np.pi * profile.index / 24)))
    wet_by_day = pd.Series(wet, index=daily.index.date)

    def daily_amplitude(months: tuple[int, ...]) -> float:
        part = hourly.loc[hourly.index.month.isin(months), "temperature_c"]
        shape = part.groupby(part.index.hour).mean()
        wet_share = wet_by_day[[d.month in months for d in wet_by_day.index]].mean()
        return float((shape.max() - shape.min()) / 2 / (1 - damping * wet_share))

    reports_on_wet_days = tidy.loc[
        pd.Series(tidy["timestamp_utc"].dt.date).map(wet_by_day).fillna(False).to_numpy(bool)
    ]
    rain_hour_share = float((reports_on_wet_days["rain_1h_mm"] > 0).mean())
    per_wet_day = float(daily.loc[wet, "rain_mm"].mean())
    return {
        "mean_c": float(mean),
        "seasonal_amplitude_c": float(np.hypot(a, b)),
        "warmest_day_of_year": float(np.round(np.arctan2(b, a) * 365.25 / (2 * np.pi) % 365.25)),
        "daily_amplitude_winter_c": daily_amplitude((12, 1, 2)),
        "daily_amplitude_summer_c": daily_amplitude((6, 7, 8)),
        "warmest_hour_utc": float(np.round((phase * 24 / (2 * np.pi)) % 24 * 2) / 2),
        "anomaly_persistence": float(np.corrcoef(anomaly[:-1], anomaly[1:])[0, 1]),
        "anomaly_sd_c": float(anomaly.std()),
        "wet_after_dry": float(wet_after_dry),
        "wet_after_wet": float(wet_after_wet),
        "rain_hour_share": rain_hour_share,
        "rain_mm_per_hour": per_wet_day / (24 * rain_hour_share),
        "wind_mean_ms": float(hourly["wind_ms"].mean()),
        "humidity_mean_pct": float(hourly["humidity_pct"].mean()),
    }


#: Decimals written for each climate parameter (3 for the others).
CLIMATE_DIGITS = {
    "mean_c": 2,
    "seasonal_amplitude_c": 2,
    "warmest_day_of_year": 0,
    "daily_amplitude_winter_c": 2,
    "daily_amplitude_summer_c": 2,
    "warmest_hour_utc": 1,
    "anomaly_sd_c": 2,
    "wind_mean_ms": 2,
    "humidity_mean_pct": 1,
}


def climate_lines(climate: dict[str, float]) -> list[str]:
    """The climate block as YAML lines."""
    return [f"{key}: {value:.{CLIMATE_DIGITS.get(key, 3)}f}" for key, value in climate.items()]


def coefficient_lines(table: pd.DataFrame) -> list[str]:
    """The coefficient block as YAML lines, 4 significant decimals."""
    lines = ["coefficients:"]
    for name, row in table.iterrows():
        low, high = row["low"], row["high"]
        lines.append(f"  {name}: {row['coefficient']:.4g}  # 95% CI {low:.3g} .. {high:.3g}")
    return lines


def replace_block(text: str, marker: str, lines: list[str]) -> str:
    """Replace the lines between ``# BEGIN <marker>`` and ``# END <marker>``, same indent."""
    head, begin, rest = text.partition(f"# BEGIN {marker}")
    if not begin:
        raise SystemExit(f"{PARAMETERS}: no '# BEGIN {marker}' comment to write after")
    begin_line_end = rest.index("\n") + 1
    indent = head[head.rfind("\n") + 1 :]
    body, end, tail = rest[begin_line_end:].partition(f"{indent}# END {marker}")
    if not end:
        raise SystemExit(f"{PARAMETERS}: no '# END {marker}' comment")
    block = "".join(f"{indent}{line}\n" for line in lines)
    return head + begin + rest[:begin_line_end] + block + end + tail


def doc_section(table: pd.DataFrame, climate: dict[str, float]) -> str:
    """The calibration section of docs/synthetic_data.md."""
    beta = table["coefficient"]
    effects = {name: f"x{np.exp(beta[name]):.2f}" for name in FLAGS} | {
        "temperature": "x{:.2f} at 5 °C, x{:.2f} at 25 °C".format(
            *(
                np.exp(beta["temperature"] * d + beta["temperature_squared"] * d**2)
                for d in (-10, 10)
            )
        ),
        "rain_last_3h": f"x{2 ** beta['rain_last_3h']:.2f} for 1 mm, "
        f"x{5 ** beta['rain_last_3h']:.2f} for 4 mm",
    }
    rows = []
    for name, row in table.iterrows():
        days = "" if pd.isna(row["days"]) else f"{int(row['days'])}"
        digits = 4 if abs(row["coefficient"]) >= 0.01 else 6
        rows.append(
            [
                f"`{name}`",
                MEANING[name],
                f"{row['coefficient']:.{digits}f}",
                f"{row['low']:.{digits}f} .. {row['high']:.{digits}f}",
                f"{row['se_poisson']:.1e}",
                effects.get(name, ""),
                days,
            ]
        )
    coefficient_table = markdown_table(
        "driver|what it is|coefficient|95% interval (by day)|Poisson s.e.|effect|days on", rows, 2
    )
    optimum = REFERENCE_TEMPERATURE_C - table.loc["temperature", "coefficient"] / (
        2 * table.loc["temperature_squared", "coefficient"]
    )
    climate_rows = [
        [f"`{line.split(':')[0]}`", line.split(": ")[1]] for line in climate_lines(climate)
    ]
    return (
        f"{DOC_START}\n"
        "### Calibrated coefficients\n\n"
        f"Fitted by `{COMMAND}` on the real year (2020-09-01 to 2021-08-09, 52 counters, "
        "`../shared/data/`) with the real Paris-Orly weather, the official zone C school "
        "calendar, public holidays and bridge days, daylight at each counter and the "
        "restriction table `data_cleaning.restrictions`: a Poisson regression of the hourly "
        "count with one fixed effect per counter × local hour × day type (working day, "
        "Saturday, Sunday or public holiday), counter-days without a count left out. The "
        "interval is ±1.96 standard errors clustered by day (the Poisson ones, far smaller, "
        "ignore that counts are over-dispersed and that the hours of a day move together). "
        "*Effect* is the multiplier of the expected count when the driver is on (for "
        "temperature and rain, at the values given); *days on* "
        "counts the local days of the real year where it is (public holidays include "
        "weekend ones; the bridge-day coefficient rests on one day, 14 May 2021, also a school "
        "holiday: read it as a rough value).\n\n"
        f"{coefficient_table}\n"
        f"The temperature parabola peaks at {optimum:.1f} °C: more riders as it gets warmer "
        "up to about that, slightly fewer above (the real year reached 34 °C); the effect of "
        "temperature is relative to 15 °C. The coefficients live in "
        "`conf/base/parameters_synthetic_raw.yml` (`synthetic_raw.coefficients`).\n\n"
        "Climate of the weather generator (`synthetic_raw.weather`), measured on the same "
        "Paris-Orly file (2020-09 to 2021-10; wet day: 1 mm or more):\n\n"
        f"{markdown_table('parameter|value', climate_rows)}"
        f"{DOC_END}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--real-dir",
        type=Path,
        default=ROOT.parent / "shared" / "data",
        help="folder of the real reference data (default: ../shared/data)",
    )
    parser.add_argument(
        "--write",
        action="store_true",
        help="write the coefficients and climate into conf/base/parameters_synthetic_raw.yml "
        "and the table into docs/synthetic_data.md",
    )
    args = parser.parse_args(argv)
    absent = [
        n for n in (REAL_COUNTS, REAL_SYNOP, REAL_CALENDAR) if not (args.real_dir / n).exists()
    ]
    if absent:
        print(f"real data absent from {args.real_dir}: {absent}", file=sys.stderr)
        return 2

    everything = config()["parameters"]
    params = everything["synthetic_raw"]
    table = calibrate_counts(args.real_dir, parameter(everything, RESTRICTIONS))
    climate = calibrate_climate(args.real_dir, float(params["weather"]["wet_day_damping"]))
    with pd.option_context("display.width", 140, "display.max_columns", 20):
        print(table.round(4).to_string())
    print("\nclimate of Paris-Orly:")
    for line in climate_lines(climate):
        print(f"  {line}")

    if args.write:
        text = PARAMETERS.read_text(encoding="utf-8")
        text = replace_block(text, "coefficients", coefficient_lines(table))
        text = replace_block(text, "climate", climate_lines(climate))
        PARAMETERS.write_text(text, encoding="utf-8")
        replace_section(DOC, DOC_START, DOC_END, doc_section(table, climate))
        print(f"wrote {PARAMETERS.relative_to(ROOT)} and {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
