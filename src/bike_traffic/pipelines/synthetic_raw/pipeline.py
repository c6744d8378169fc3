"""``synthetic_raw``: write a realistic Paris counter export when no real one is at hand."""

from kedro.pipeline import Node, Pipeline

from .nodes import format_export, make_calendar, make_counters, simulate_counts


def create_pipeline(**kwargs) -> Pipeline:
    """Create the generator pipeline: counters, timeline, counts, export.

    Returns:
        A pipeline whose only persisted output is ``raw_counts``.
    """
    return Pipeline(
        [
            Node(make_counters, "params:synthetic_raw", "synthetic_counters", name="make_counters"),
            Node(make_calendar, "params:synthetic_raw", "synthetic_calendar", name="make_calendar"),
            Node(
                simulate_counts,
                {
                    "counters": "synthetic_counters",
                    "calendar": "synthetic_calendar",
                    "params": "params:synthetic_raw",
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
