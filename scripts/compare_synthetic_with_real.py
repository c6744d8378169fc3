"""Compare the generated counter export with the real Paris counts.

Generates the default export with the ``synthetic_raw`` pipeline and cleans it with the
``data_cleaning`` pipeline (both as slices on Kedro's ``SequentialRunner`` over an
in-memory catalog, with the project's parameters: nothing is written under ``data/``),
reads the real hourly counts of 52 counters in ``../shared/data/`` (City of Paris, ODbL),
and writes

* ``docs/figures/synthetic_vs_real.png``: hourly, day-of-week and monthly profiles
  and the count distribution, generated against real;
* ``docs/synthetic_data.md``: what the generator reproduces, the figure and the
  numbers side by side.

Run from the project root::

    .venv/bin/python scripts/compare_synthetic_with_real.py

The real data is never copied into the project: it is read from ``../shared/data/``
(``--real-dir`` to point elsewhere), and the script stops with a message when it is absent.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from script_support import ROOT, config, run_slice  # noqa: E402

from bike_traffic.calendar import PARIS_TZ, is_french_holiday  # noqa: E402
from bike_traffic.features import COUNTER, TARGET, TIMESTAMP  # noqa: E402
from bike_traffic.pipelines import data_cleaning, synthetic_raw  # noqa: E402
from bike_traffic.pipelines.synthetic_raw.sites import MONTH_FACTORS, SITES  # noqa: E402

REAL_COUNTS = "paris_counts_2020-09_2021-08.parquet"
REAL_2024 = "sebastopol_hourly_weather_2024.csv"
ATTRIBUTION = "Real data: Ville de Paris (ODbL)"
COMMAND = ".venv/bin/python scripts/compare_synthetic_with_real.py"

#: Facts about the full 2024-2025 raw export, from ../shared/data/README.md.
EXPORT_2024_MEAN = 78.5
EXPORT_2024_MEDIAN = 43.0
EXPORT_2024_MISSING_ID = 0.037

QUANTILES = (0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99)
COUNTER_QUANTILES = (0.10, 0.25, 0.50, 0.75, 0.90)
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MORNING = range(5, 12)
EVENING = range(15, 22)
#: A month of the one-counter 2024 reference counts only with this many hours.
MIN_MONTH_HOURS = 24 * 20

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


def generate(params: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The default export (``synthetic_raw``) and its clean features (``data_cleaning``).

    Args:
        params: The project's parameters (``synthetic_raw``, ``data_cleaning``).

    Returns:
        The raw export (text columns, as the portal writes them) and ``clean_counts``.
    """
    raw = run_slice(synthetic_raw.create_pipeline(), {}, params)["raw_counts"]
    cleaning = data_cleaning.create_pipeline().to_outputs("clean_counts")
    return raw, run_slice(cleaning, {"raw_counts": raw}, params)["clean_counts"]


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
        month=(f.groupby("month")["count"].mean() / overall).reindex(range(1, 13)),
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
    return hours.reindex(range(1, 13), fill_value=0)


def peak(profile: pd.Series, window: range) -> tuple[int, float]:
    """Hour and height of the highest point of ``profile`` within ``window``."""
    part = profile.loc[list(window)]
    return int(part.idxmax()), float(part.max())


def raw_quirks(raw: pd.DataFrame) -> dict[str, float]:
    """Measure the format quirks in the generated raw export (its text columns)."""
    stamps = raw["Date et heure de comptage"]
    local = pd.to_datetime(stamps, utc=True, format="ISO8601").dt.tz_convert(PARIS_TZ)
    coords = raw["Coordonnées géographiques"]
    names = raw["Nom du compteur"]
    sorted_rows = (
        pd.DataFrame({"name": names, "ts": local})
        .groupby("name", sort=False)["ts"]
        .apply(lambda s: s.is_monotonic_increasing)
    )
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
    }


# ---------------------------------------------------------------------------- figure


def draw_figure(
    *,
    gen: Profiles,
    real: Profiles,
    ref: Profiles | None,
    gen_counts: Counts,
    real_counts: Counts,
    ref_months: pd.Series | None,
    path: Path,
) -> None:
    """The 2x2 comparison figure."""
    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
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

    ax = axes[1, 0]
    m = np.arange(1, 13)
    ax.plot(m, gen.month, "-o", color=GEN_COLOR, lw=2, label="generated (realised)")
    ax.plot(
        m,
        np.asarray(MONTH_FACTORS) / np.mean(MONTH_FACTORS),
        "x",
        color=GEN_COLOR,
        ms=8,
        mew=2,
        label="generator input (MONTH_FACTORS)",
    )
    ax.plot(m, real.month, "-o", color=REAL_COLOR, lw=2, label="real 2020-21 (Aug: 1-9 only)")
    if ref is not None and ref_months is not None:
        ax.plot(m, ref_months, ":D", color=REF_COLOR, ms=5, label="real 2024, 1 counter")
    for start, end, text in ((10.5, 12.5, "lockdown /\ncurfews"), (0.5, 6.5, "curfews")):
        ax.axvspan(start, end, color=REAL_COLOR, alpha=0.05)
        ax.text((start + end) / 2, 0.42, text, ha="center", fontsize=7, color=REAL_COLOR)
    ax.axhline(1.0, color="black", lw=0.8)
    ax.set(
        title="Monthly profile",
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

    fig.suptitle(
        f"Generated export ({gen_counts.period}, {gen.counters} counters) vs real Paris counts "
        f"({real_counts.period}, {real.counters} counters)",
        fontsize=12,
    )
    fig.text(
        0.5,
        0.01,
        f"{ATTRIBUTION}, 'Comptage vélo - Données compteurs'. Real 2020-21 includes COVID "
        "lockdowns and curfews; the 2024 reference is one counter (Sébastopol N-S).",
        ha="center",
        fontsize=9,
    )
    fig.tight_layout(rect=(0, 0.03, 1, 0.97))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ------------------------------------------------------------------------- markdown


def _f(value: float, digits: int = 2) -> str:
    return "" if value is None or pd.isna(value) else f"{value:.{digits}f}"


def _pct(value: float, digits: int = 1) -> str:
    return "" if value is None or pd.isna(value) else f"{100 * value:.{digits}f}%"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


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
    quirks: dict[str, float] | None,
    params: dict,
) -> None:
    """Write docs/synthetic_data.md from the numbers (rerunning the script updates it)."""
    rel_fig = (
        figure.relative_to(path.parent).as_posix()
        if figure.is_relative_to(path.parent)
        else figure.as_posix()
    )
    has_ref = ref is not None
    n = numbers
    out: list[str] = []
    add = out.append
    add("# The generated counter export and how it compares with real counts\n")
    add(
        "<!-- Generated by scripts/compare_synthetic_with_real.py: edit the script, not this "
        "file. -->\n"
    )
    add(
        "No machine of this project's CI reaches the internet, so the default raw export "
        "(`data/01_raw/comptage-velo-donnees-compteurs.csv`) is generated offline by the "
        "`synthetic_raw` pipeline (`src/bike_traffic/pipelines/synthetic_raw/`, parameters in "
        "`conf/base/parameters_synthetic_raw.yml`). It is written in exactly the City of "
        "Paris portal's format and its counts follow the real counters' patterns. This page "
        "shows what it reproduces and compares it with real counts.\n"
    )
    add(
        "Regenerate this page and its figure with the command below: it runs the "
        "`synthetic_raw` and `data_cleaning` pipelines in memory with the project's "
        "parameters (nothing is written under `data/`), then compares.\n"
    )
    add(f"```bash\n{COMMAND}\n```\n")
    add(
        "The real data is read from `../shared/data/` (never copied into the project); the "
        "script stops with a message when it is not there.\n"
    )

    add("## What the generator reproduces\n")
    add(_generator_description(params, quirks))

    add("## Comparison with real counts\n")
    add(f"![Generated vs real counts]({rel_fig})\n")
    add(f'*{ATTRIBUTION}, "Comptage vélo - Données compteurs".*\n')
    add("Compared data:\n")
    items = [
        f"- **generated**: the default generated export cleaned by `data_cleaning` (its "
        f"`clean_counts`), {gen.rows:,} rows, {gen.counters} counters, "
        f"{gen_counts.period} (local dates).",
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
    add("\n".join(items) + "\n")
    add(
        "Weekday means Monday to Friday outside French public holidays; weekend means "
        "Saturday and Sunday. Both hourly profiles are divided by the same weekday mean, so "
        "the weekend curve also shows how much lower weekend traffic is. All hours count, "
        "outage zeros included.\n"
    )
    add("### Why the seasonality is not taken from the real year\n")
    add(
        "The real 2020-21 year is not a normal year: Paris had a 21h curfew from 17 October "
        "2020, a lockdown from 30 October to 15 December 2020, then curfews at 20h, at 18h "
        "(from 16 January 2021) and at 19h (from 20 March), moved to 21h on 19 May and to "
        "23h on 9 June before they ended on 20 June 2021, with a third, lighter lockdown in "
        "April 2021. Its monthly "
        "profile is therefore distorted (a very high September 2020, low November and "
        "December) and its evening traffic after 19h is depressed for half the year. The "
        "generator takes the **hourly shape** from these real counts (`WEEKDAY_PROFILE` and "
        "`WEEKEND_PROFILE` in `sites.py` were measured on them) but uses the **seasonality "
        "of a normal year** (`MONTH_FACTORS`): a summer high, an August dip, a September "
        "rebound and a winter low. Its **level** is calibrated to the full 2024-25 export "
        f"(`mean_hourly_count: {params['mean_hourly_count']}`): the README of "
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
        "Mean count per calendar month divided by the overall mean. *Generator input* is "
        "`MONTH_FACTORS` (divided by its mean); the generator interpolates it daily between "
        "mid-month anchors, so the realised month-to-month contrasts are smaller. The real "
        "2020-21 August covers 1-9 August only.\n"
    )
    input_factors = np.asarray(MONTH_FACTORS) / np.mean(MONTH_FACTORS)
    header = ["", *MONTH_NAMES]
    rows = [
        ["generated", *(_f(v) for v in gen.month)],
        ["generator input", *(_f(v) for v in input_factors)],
        ["real 2020-21", *(_f(v) for v in real.month)],
    ]
    if has_ref and ref_months is not None:
        rows.append(["real 2024, 1 counter", *(_f(v) for v in ref_months)])
    add(_table(header, rows) + "\n")

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
    add(_reading(gen, real, ref, ref_months, n))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out), encoding="utf-8")


def _generator_description(params: dict, quirks: dict[str, float] | None) -> str:
    p = params
    n_sites = int(p["n_sites"])
    two_way = 1 - float(p["single_counter_share"])
    expected_counters = round(n_sites * (2 - float(p["single_counter_share"])))
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

**Time.** Hourly, {p["days"]} days from {p["start"]} (local), laid out in UTC so that the
spring clock-change day has 23 local hours and the autumn one 25, as in the real export.

**Counts.** The expected count of a counter and hour is the product of
- its level;
- its hourly shape: on weekdays the commute profile, with peaks at **8-9h and 18h**
  (`WEEKDAY_PROFILE`, measured on the real counts), mixed with the leisure profile by the
  counter's leisure share; on weekends and public holidays the **afternoon leisure**
  profile (`WEEKEND_PROFILE`, highest 15-17h);
- a day-of-week factor;
- the **seasonality of a normal year** (`MONTH_FACTORS`: winter low, summer high, an
  **August dip**, a September rebound), interpolated daily, times {p["christmas_factor"]}
  from 22 December to 2 January;
- **French public holidays** (from the `holidays` package): weekend profile, times
  {p["holiday_factor"]};
- **rainy days** (probability {p["rain_day_probability"]} a day, more often from October to
  February): rain in mm from a gamma law, traffic times exp(-0.05 mm), at least 0.45;
- a small daily noise and a slow per-counter drift over the year (road works, new lanes).

The levels are scaled so that the mean hourly count is {p["mean_hourly_count"]}, and
counts are drawn from a negative binomial around the expectation (shape
{p["dispersion"]}). **Counter outages** set runs of hours to zero ({p["outages_per_counter"]}
runs per counter and year on average, median length 36 hours, up to 30 days).

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
    if quirks:
        q = quirks
        text += f"""
Measured in the default generated export (`raw_counts`, as `synthetic_raw` writes it):

{
            _table(
                ["", "value"],
                [
                    ["rows", f"{int(q['rows']):,}"],
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
                ],
            )
        }
"""
    return text + "\n"


def _reading(
    gen: Profiles,
    real: Profiles,
    ref: Profiles | None,
    ref_months: pd.Series | None,
    n: dict[str, float],
) -> str:
    late_gen = float(gen.weekday.loc[21:23].mean())
    late_real = float(real.weekday.loc[21:23].mean())
    same_peaks = (n["gen_morning"], n["gen_evening"]) == (n["real_morning"], n["real_evening"])
    flatter = n["gen_morning_height"] < n["real_morning_height"]
    weekend_ratio = (float(gen.weekend.mean()), float(real.weekend.mean()))
    august_input = MONTH_FACTORS[7] / np.mean(MONTH_FACTORS)
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
        + ". Tuesday to Thursday are the busiest days in both.",
        f"- **Late evening**: 21-23h on weekdays is {_f(late_gen)} of the weekday mean in the "
        f"generated data and {_f(late_real)} in the real 2020-21 data, which the curfews "
        "depressed"
        + (
            f"; the one real 2024 counter shows {_f(float(ref.weekday.loc[21:23].mean()))} "
            "(a central street, so not conclusive, but normal-year evenings may be busier "
            "than generated)."
            if ref is not None
            else "."
        ),
        "- **Months**: the generated year follows the normal-year input (winter low, summer "
        "high, August dip, September rebound) rather than the lockdown-shaped 2020-21 "
        "year. The daily interpolation between mid-month anchors softens the input's "
        f"contrasts: August is {_f(gen.month[8])} of the mean realised against "
        f"{_f(august_input)} in the input (real: {_f(real.month[8])} for 1-9 August 2021"
        + (
            f", {_f(ref_months[8])} in August 2024 on the one counter"
            if ref_months is not None and pd.notna(ref_months[8])
            else ""
        )
        + ").",
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
        f"{gen.counter_means.min():.1f}), curfew nights and longer outages.",
    ]
    return "\n".join(lines) + "\n"


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
    parser.add_argument("--doc", type=Path, default=ROOT / "docs" / "synthetic_data.md")
    args = parser.parse_args(argv)

    real_counts = load_real(args.real_dir)
    ref_counts = load_real_2024(args.real_dir)
    params = config()["parameters"]  # as `kedro run` loads them
    print("Generating the default export (synthetic_raw) and cleaning it (data_cleaning) ...")
    raw, clean = generate(params)
    quirks = raw_quirks(raw)
    del raw
    gen_counts = generated_counts(clean)
    del clean

    gen, real = profiles(gen_counts), profiles(real_counts)
    ref = profiles(ref_counts) if ref_counts is not None else None
    ref_months = None
    if ref_counts is not None and ref is not None:
        ref_months = ref.month.where(months_covered(ref_counts) >= MIN_MONTH_HOURS)
        # renormalise on the well-covered months only
        covered = ref_counts.frame[ref_counts.frame["month"].isin(ref_months.dropna().index)]
        ref_months = (
            covered.groupby("month")["count"].mean().reindex(range(1, 13)) / covered["count"].mean()
        )
    numbers = summary_numbers(gen, real)

    draw_figure(
        gen=gen,
        real=real,
        ref=ref,
        gen_counts=gen_counts,
        real_counts=real_counts,
        ref_months=ref_months,
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
        params=params["synthetic_raw"],
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
    print(f"wrote {args.figure}")
    print(f"wrote {args.doc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
