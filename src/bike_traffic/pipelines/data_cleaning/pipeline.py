"""``data_cleaning``: raw export, weather and calendar -> quarantine, features, fixed split."""

from kedro.pipeline import Node, Pipeline

from bike_traffic.exogenous.calendars import school_holiday_periods
from bike_traffic.exogenous.weather import climatology, to_hourly
from bike_traffic.features import add_features, feature_context

from .nodes import (
    check_weather_coverage,
    clean_weather,
    fill_missing_identifiers,
    flag_outages,
    parse_fields,
    quarantine_invalid_rows,
    rename_columns,
    split_train_test,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Create the cleaning pipeline.

    Returns:
        A pipeline from ``raw_counts``, ``raw_weather`` and ``raw_school_calendar`` to
        ``clean_counts``, ``train_baseline``, ``test_baseline``, the quarantines, the hourly
        weather and the ``feature_context`` every predictor carries.
    """
    return Pipeline(
        [
            Node(rename_columns, "raw_counts", "raw_counts_renamed", name="rename_columns"),
            Node(parse_fields, "raw_counts_renamed", "raw_counts_parsed", name="parse_fields"),
            Node(
                fill_missing_identifiers,
                "raw_counts_parsed",
                "raw_counts_filled",
                name="fill_missing_identifiers",
            ),
            Node(
                quarantine_invalid_rows,
                {
                    "renamed": "raw_counts_renamed",
                    "filled": "raw_counts_filled",
                    "bbox": "params:data_cleaning.paris_bbox",
                    "max_hourly_count": "params:data_cleaning.max_hourly_count",
                },
                ["valid_counts", "quarantined_rows", "quarantine_summary"],
                name="quarantine_invalid_rows",
            ),
            Node(
                clean_weather,
                ["raw_weather", "params:data_cleaning.weather"],
                ["weather_reports", "quarantined_weather"],
                name="clean_weather",
            ),
            Node(to_hourly, "weather_reports", "weather_hours", name="weather_to_hourly"),
            Node(
                check_weather_coverage,
                ["weather_hours", "valid_counts", "params:data_cleaning.weather"],
                "hourly_weather",
                name="check_weather_coverage",
            ),
            Node(climatology, "hourly_weather", "weather_climatology", name="weather_climatology"),
            Node(
                school_holiday_periods,
                ["raw_school_calendar", "params:data_cleaning.school_zone"],
                "school_holidays",
                name="school_holiday_periods",
            ),
            Node(
                feature_context,
                {
                    "school_holidays": "school_holidays",
                    "restrictions": "params:data_cleaning.restrictions",
                    "climatology": "weather_climatology",
                },
                "feature_context",
                name="feature_context",
            ),
            Node(
                add_features,
                ["valid_counts", "hourly_weather", "feature_context"],
                "featured_counts",
                name="add_features",
            ),
            Node(
                flag_outages,
                ["featured_counts", "params:data_cleaning.outages"],
                ["clean_counts", "outage_summary"],
                name="flag_outages",
            ),
            Node(
                split_train_test,
                ["clean_counts", "params:data_cleaning.split"],
                ["train_baseline", "test_baseline", "split_info"],
                name="split_train_test",
            ),
        ]
    )
