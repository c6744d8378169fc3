"""``synthetic_raw``: write a realistic Paris counter export, and the raw files that explain it.

The weather is drawn first and written as Météo-France SYNOP reports (``raw_weather``), the
school calendar as the official file (``raw_school_calendar``); the counts respond to the
drivers read back from those files (``make_drivers``) and are written as the portal's export
(``raw_counts``).
"""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    format_export,
    format_school_calendar,
    format_synop,
    make_calendar,
    make_counters,
    make_drivers,
    simulate_counts,
    simulate_weather,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Create the generator pipeline: weather and calendars first, then counts and export.

    Returns:
        A pipeline whose persisted outputs are ``raw_weather``, ``raw_school_calendar``
        and ``raw_counts``.
    """
    return Pipeline(
        [
            Node(make_counters, "params:synthetic_raw", "synthetic_counters", name="make_counters"),
            Node(make_calendar, "params:synthetic_raw", "synthetic_calendar", name="make_calendar"),
            Node(
                simulate_weather,
                "params:synthetic_raw",
                "synthetic_weather",
                name="simulate_weather",
            ),
            Node(
                format_synop,
                {"weather": "synthetic_weather", "params": "params:synthetic_raw"},
                "raw_weather",
                name="format_synop",
            ),
            Node(
                format_school_calendar,
                "params:synthetic_raw",
                "raw_school_calendar",
                name="format_school_calendar",
            ),
            Node(
                make_drivers,
                {
                    "calendar": "synthetic_calendar",
                    "weather_reports": "raw_weather",
                    "school_calendar": "raw_school_calendar",
                    # the restriction table the features read should be this same parameter
                    "restrictions": "params:data_cleaning.restrictions",
                    "params": "params:synthetic_raw",
                },
                "synthetic_drivers",
                name="make_drivers",
            ),
            Node(
                simulate_counts,
                {
                    "counters": "synthetic_counters",
                    "calendar": "synthetic_calendar",
                    "params": "params:synthetic_raw",
                    "drivers": "synthetic_drivers",
                },
                "synthetic_hourly_counts",
                name="simulate_counts",
            ),
            Node(
                format_export,
                {
                    "counts": "synthetic_hourly_counts",
                    "counters": "synthetic_counters",
                    "calendar": "synthetic_calendar",
                    "params": "params:synthetic_raw",
                },
                "raw_counts",
                name="format_export",
            ),
        ]
    )
