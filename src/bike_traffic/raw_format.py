"""The City of Paris "comptage vélo - données compteurs" export: its columns and names.

Shared by the synthetic generator (which writes the format), the raw dataset
(which checks it on load) and ``data_cleaning`` (which turns it into features).
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

#: The 16 columns of the portal's export, in the order it publishes them.
RAW_COLUMNS: tuple[str, ...] = (
    "Identifiant du compteur",
    "Nom du compteur",
    "Identifiant du site de comptage",
    "Nom du site de comptage",
    "Comptage horaire",
    "Date et heure de comptage",
    "Date d'installation du site de comptage",
    "Lien vers photo du site de comptage",
    "Coordonnées géographiques",
    "Identifiant technique compteur",
    "ID Photos",
    "test_lien_vers_photos_du_site_de_comptage_",
    "id_photo_1",
    "url_sites",
    "type_dimage",
    "mois_annee_comptage",
)

#: Columns without which no row can be cleaned: a file that lacks one is refused.
REQUIRED_RAW_COLUMNS: tuple[str, ...] = (
    "Identifiant du compteur",
    "Nom du compteur",
    "Identifiant du site de comptage",
    "Nom du site de comptage",
    "Comptage horaire",
    "Date et heure de comptage",
    "Coordonnées géographiques",
)

#: Photo and URL columns: carried by the export, useless to the models.
PHOTO_COLUMNS_SNAKE: tuple[str, ...] = (
    "lien_vers_photo_du_site_de_comptage",
    "id_photos",
    "test_lien_vers_photos_du_site_de_comptage",
    "id_photo_1",
    "url_sites",
    "type_dimage",
)

# Snake-case names used everywhere after cleaning.
COUNTER_ID = "identifiant_du_compteur"
COUNTER = "nom_du_compteur"
SITE_ID = "identifiant_du_site_de_comptage"
SITE = "nom_du_site_de_comptage"
COUNT = "comptage_horaire"
TIMESTAMP = "date_et_heure_de_comptage"
INSTALLED = "date_d_installation_du_site_de_comptage"
COORDINATES = "coordonnees_geographiques"
TECHNICAL_ID = "identifiant_technique_compteur"
MONTH_YEAR = "mois_annee_comptage"

# Paris intra-muros with a margin: a counter outside this box is a data error.
#: Columns the raw export's reader adds (:class:`bike_traffic.datasets.raw_export.
#: RawExportDataset`): each row's line in the file, and why a line is malformed ("" when
#: it is not; a malformed line's fields are cut to what could be read).
LINE = "_line"
MALFORMED = "_malformed"
#: The snake_case name of :data:`MALFORMED` once renamed (a column of the quarantine).
MALFORMED_LINE = "malformed_line"
#: The column that names each row's file when several files are read as one
#: (:class:`bike_traffic.datasets.yearly_archives.RawHistoryDataset`), and its name once
#: renamed: a quarantined row then says which file its line is in.
SOURCE = "_source"
SOURCE_FILE = "source_file"

PARIS_BBOX = {"lat_min": 48.80, "lat_max": 48.91, "lon_min": 2.22, "lon_max": 2.47}


def to_snake_case(name: str) -> str:
    """Turn a French column header into a snake_case ASCII identifier.

    Args:
        name: A header such as ``"Coordonnées géographiques"``.

    Returns:
        ``"coordonnees_geographiques"``: accents stripped, lower case, runs of
        other characters replaced by one underscore, no leading/trailing one.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^0-9a-z]+", "_", ascii_name.lower()).strip("_")


def blank_to_na(values: pd.Series) -> pd.Series:
    """Text with surrounding blanks stripped and empty strings as missing values.

    The export writes a missing value as an empty field; this is how every
    reader of it tells "missing" from "present".
    """
    stripped = values.astype("string").str.strip()
    return stripped.mask(stripped == "")
