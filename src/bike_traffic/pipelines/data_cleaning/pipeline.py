"""``data_cleaning``: raw export -> quarantine, clean features, fixed train/test split."""

from kedro.pipeline import Node, Pipeline

from bike_traffic.features import add_time_features

from .nodes import (
    fill_missing_identifiers,
    parse_fields,
    quarantine_invalid_rows,
    rename_columns,
    split_train_test,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Create the cleaning pipeline.

    Returns:
        A pipeline from ``raw_counts`` to ``clean_counts``, ``train_baseline``,
        ``test_baseline``, the quarantine and its summary.
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
                },
                ["valid_counts", "quarantined_rows", "quarantine_summary"],
                name="quarantine_invalid_rows",
            ),
            Node(add_time_features, "valid_counts", "clean_counts", name="add_time_features"),
            Node(
                split_train_test,
                ["clean_counts", "params:data_cleaning.split"],
                ["train_baseline", "test_baseline", "split_info"],
                name="split_train_test",
            ),
        ]
    )
