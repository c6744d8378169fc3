"""Years of history: the portal's yearly archives read with the rolling export, as one export.

The City of Paris publishes the counts twice: the rolling export (13 months,
:class:`~bike_traffic.datasets.raw_export.RawExportDataset`) and one archive file a year
(``comptage-velo-historique-donnees-compteurs``, since 2018). The archives' formats differ
by year, and each difference is a setting of :class:`YearlyArchiveDataset`:

- ``load_args``: the separator and encoding (one year is ``,`` with cp1252);
- ``columns``: headers that were named otherwise that year, mapped to the export's;
- ``timestamps``: ``offset`` (ISO 8601 with its UTC offset, as the export) or ``local``
  (Paris wall-clock time without an offset: localised here; of the two 02:00 hours of an
  autumn clock change, a counter's first is summer time, its second winter time; a time
  that does not exist in Paris is left empty, so that ``data_cleaning`` quarantines the
  row with its line).

:class:`RawHistoryDataset` reads every archive and the rolling export and returns one
table in the export's format, archives first. Its ``counter_names`` maps a counter's old
names to the one it has now (the export's), so that a renamed counter is one counter;
an archive hour that the export also holds for the same counter is left to the export
(the newer publication), and counted in the log. Each row keeps its line and names its
file (:data:`SOURCE`), so that a quarantined row says where it came from.
"""

from __future__ import annotations

import logging
from pathlib import PurePosixPath
from typing import Any

import numpy as np
import pandas as pd
from kedro.io.core import AbstractDataset, DatasetError

from bike_traffic.calendar import PARIS_TZ, iso_local
from bike_traffic.datasets.raw_export import RawExportDataset
from bike_traffic.raw_format import LINE, MALFORMED, RAW_COLUMNS, SOURCE

logger = logging.getLogger(__name__)

_COUNTER = "Nom du compteur"
_TIME = "Date et heure de comptage"
_TIMESTAMPS = ("offset", "local")


def localise(naive: pd.Series, counters: pd.Series) -> pd.Series:
    """Paris wall-clock times without offset, as ISO 8601 text with their offset.

    Args:
        naive: Times as text (``2019-06-01T08:00:00`` or with a space).
        counters: Each row's counter: the two 02:00 hours of an autumn clock change are
            told apart within a counter, in file order (the first is summer time).

    Returns:
        ISO 8601 with offset; "" where the text is not a time or the time does not exist
        in Paris (the spring clock change), for ``data_cleaning`` to quarantine.
    """
    parsed = pd.to_datetime(naive.str.strip().str.replace(" ", "T", n=1), errors="coerce")
    frame = pd.DataFrame({"counter": counters.to_numpy(), "t": parsed.to_numpy()})
    # the first of a counter's repeated wall-clock times is the summer one
    summer = ~frame.duplicated(["counter", "t"], keep="first").to_numpy()
    local = pd.DatetimeIndex(parsed).tz_localize(PARIS_TZ, ambiguous=summer, nonexistent="NaT")
    return pd.Series(iso_local(pd.Series(local)), index=naive.index, dtype=object)


class YearlyArchiveDataset(RawExportDataset):
    """One yearly archive, read in its own format and returned in the export's.

    Args (beyond :class:`RawExportDataset`'s):
        columns: ``{header in this file: the export's header}`` for renamed columns.
        timestamps: ``offset`` or ``local`` (see the module).
    """

    def __init__(
        self,
        *,
        columns: dict[str, str] | None = None,
        timestamps: str = "offset",
        **kwargs: Any,
    ) -> None:
        """See the class."""
        super().__init__(**kwargs)
        if timestamps not in _TIMESTAMPS:
            raise DatasetError(
                f"Archive '{self._where()}': timestamps must be one of {_TIMESTAMPS}, "
                f"not {timestamps!r}."
            )
        self._columns = dict(columns or {})
        self._timestamps = timestamps

    def load(self) -> pd.DataFrame:
        """The archive's rows with the export's 16 columns, every value as text.

        Raises:
            DatasetError: As :meth:`RawExportDataset.load`, naming this file (a required
                column missing once renamed, another separator or encoding...).
        """
        frame = super().load()
        if self._timestamps == "local":
            sound = frame[MALFORMED] == ""
            frame.loc[sound, _TIME] = localise(frame.loc[sound, _TIME], frame.loc[sound, _COUNTER])
        for column in RAW_COLUMNS:
            if column not in frame.columns:
                frame[column] = ""
        return frame[[*RAW_COLUMNS, LINE, MALFORMED]].assign(
            **{SOURCE: PurePosixPath(str(self._filepath)).name}
        )

    def _as_export_header(self, frame: pd.DataFrame) -> pd.DataFrame:
        """This year's headers renamed to the export's (before the column check)."""
        return frame.rename(columns=self._columns)


class RawHistoryDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """The yearly archives and the rolling export, as one raw export (read-only).

    Args:
        export: The rolling export's :class:`RawExportDataset` arguments.
        archives: One :class:`YearlyArchiveDataset`'s arguments per archive, oldest first.
        counter_names: ``{old name: name now}``: renamed counters, one identity.
    """

    def __init__(
        self,
        *,
        export: dict[str, Any],
        archives: list[dict[str, Any]] | None = None,
        counter_names: dict[str, str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """See the class."""
        self._export = RawExportDataset(**export)
        self._archives = [YearlyArchiveDataset(**args) for args in archives or []]
        self._names = dict(counter_names or {})
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {
            "export": self._export._describe(),
            "archives": [a._describe() for a in self._archives],
            "counter_names": len(self._names),
        }

    def load(self) -> pd.DataFrame:
        """Every archive then the export, renamed counters under one name, overlaps to the
        export.

        Returns:
            The export's columns, :data:`LINE`, :data:`MALFORMED` and :data:`SOURCE`.
        """
        export = self._export.load()
        export[SOURCE] = PurePosixPath(str(self._export._filepath)).name
        parts = [archive.load() for archive in self._archives]
        frame = pd.concat([*parts, export], ignore_index=True)
        renamed = frame[_COUNTER].isin(self._names.keys())
        frame.loc[renamed, _COUNTER] = frame.loc[renamed, _COUNTER].map(self._names)
        if renamed.any():
            logger.info("Counter names: %d rows renamed to the name they have now", renamed.sum())
        stamps = pd.to_datetime(frame[_TIME], utc=True, errors="coerce", format="ISO8601")
        in_export = np.zeros(len(frame), dtype=bool)
        in_export[len(frame) - len(export) :] = True
        keys = pd.MultiIndex.from_arrays([frame[_COUNTER], stamps])
        exported = set(keys[in_export & stamps.notna().to_numpy()])
        superseded = ~in_export & stamps.notna().to_numpy() & keys.isin(exported)
        if superseded.any():
            logger.info(
                "%d archive rows are hours the rolling export also holds: the export's are kept",
                superseded.sum(),
            )
        return frame.loc[~superseded].reset_index(drop=True)

    def save(self, data: pd.DataFrame) -> None:
        """Read-only: the portal publishes these files."""
        raise DatasetError("RawHistoryDataset is read-only.")
