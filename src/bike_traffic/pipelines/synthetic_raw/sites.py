"""Paris streets with cycle counters: name and approximate position (lat, lon).

Real streets of Paris; the positions are close to where counters stand, so a
map of the generated counters looks like a map of the real ones.
"""

SITES: tuple[tuple[str, float, float], ...] = (
    ("boulevard de Sébastopol", 48.8638, 2.3510),
    ("rue de Rivoli", 48.8580, 2.3540),
    ("boulevard Saint-Michel", 48.8460, 2.3420),
    ("avenue Denfert Rochereau", 48.8350, 2.3331),
    ("boulevard du Montparnasse", 48.8408, 2.3332),
    ("quai d'Orsay", 48.8620, 2.3050),
    ("boulevard Diderot", 48.8460, 2.3754),
    ("avenue de Clichy", 48.8860, 2.3270),
    ("quai d'Issy", 48.8330, 2.2640),
    ("boulevard Voltaire", 48.8600, 2.3750),
    ("rue de Rennes", 48.8480, 2.3280),
    ("boulevard de Magenta", 48.8760, 2.3570),
    ("avenue de la Grande Armée", 48.8750, 2.2900),
    ("rue La Fayette", 48.8770, 2.3490),
    ("boulevard Richard Lenoir", 48.8610, 2.3710),
    ("avenue des Champs-Élysées", 48.8700, 2.3070),
    ("quai de la Tournelle", 48.8510, 2.3540),
    ("boulevard de Ménilmontant", 48.8630, 2.3850),
    ("avenue d'Italie", 48.8230, 2.3580),
    ("rue de Vaugirard", 48.8400, 2.3000),
    ("boulevard Raspail", 48.8450, 2.3300),
    ("avenue de Flandre", 48.8880, 2.3740),
    ("boulevard de la Villette", 48.8780, 2.3700),
    ("quai de Valmy", 48.8720, 2.3640),
    ("rue d'Amsterdam", 48.8790, 2.3270),
    ("boulevard Haussmann", 48.8730, 2.3320),
    ("avenue de l'Opéra", 48.8680, 2.3330),
    ("rue du Faubourg Saint-Antoine", 48.8510, 2.3800),
    ("avenue Daumesnil", 48.8400, 2.3950),
    ("boulevard de Grenelle", 48.8500, 2.2930),
    ("quai de Bercy", 48.8330, 2.3830),
    ("avenue de France", 48.8300, 2.3770),
    ("boulevard Saint-Germain", 48.8530, 2.3380),
    ("rue de Turbigo", 48.8650, 2.3560),
    ("avenue Jean Jaurès", 48.8830, 2.3760),
    ("boulevard Barbès", 48.8880, 2.3490),
    ("rue de Charenton", 48.8440, 2.3850),
    ("avenue du Général Leclerc", 48.8280, 2.3270),
    ("boulevard Bourdon", 48.8500, 2.3680),
    ("quai des Grands Augustins", 48.8540, 2.3410),
    ("rue de Lyon", 48.8480, 2.3720),
    ("avenue de la République", 48.8650, 2.3770),
    ("boulevard de l'Hôpital", 48.8400, 2.3600),
    ("rue de la Convention", 48.8380, 2.2900),
    ("avenue Victoria", 48.8580, 2.3480),
    ("boulevard Malesherbes", 48.8800, 2.3130),
    ("rue Saint-Antoine", 48.8540, 2.3630),
    ("quai de Jemmapes", 48.8740, 2.3660),
    ("avenue de Suffren", 48.8520, 2.2980),
    ("boulevard Ney", 48.8980, 2.3500),
    ("avenue Philippe Auguste", 48.8530, 2.3920),
    ("rue de Belleville", 48.8720, 2.3840),
    ("boulevard de Port-Royal", 48.8390, 2.3420),
    ("avenue Mozart", 48.8540, 2.2700),
    ("rue de Sèvres", 48.8480, 2.3200),
    ("cours la Reine", 48.8650, 2.3110),
    ("boulevard des Batignolles", 48.8820, 2.3190),
    ("rue Lecourbe", 48.8410, 2.3010),
    ("quai Saint-Bernard", 48.8470, 2.3600),
    ("avenue Parmentier", 48.8620, 2.3740),
    ("rue de Tolbiac", 48.8270, 2.3570),
)

#: Pairs of directions written at the end of counter names, one per counter of a site.
DIRECTIONS: tuple[tuple[str, str], ...] = (
    ("N-S", "S-N"),
    ("E-O", "O-E"),
    ("NE-SO", "SO-NE"),
    ("NO-SE", "SE-NO"),
)

# Mean hourly count by local hour, relative to the weekday mean, measured on the
# real counts of ../shared/data/paris_counts_2020-09_2021-08.parquet (52 counters,
# dates converted from UTC to Europe/Paris). See docs/synthetic_data.md.
WEEKDAY_PROFILE: tuple[float, ...] = (
    0.17, 0.08, 0.04, 0.03, 0.02, 0.07, 0.22, 0.83, 2.47, 2.21, 1.03, 0.93,
    1.21, 1.22, 1.14, 1.16, 1.40, 2.04, 2.66, 2.35, 1.29, 0.67, 0.43, 0.35,
)
WEEKEND_PROFILE: tuple[float, ...] = (
    0.25, 0.17, 0.13, 0.08, 0.05, 0.06, 0.09, 0.16, 0.34, 0.59, 0.86, 1.13,
    1.37, 1.24, 1.37, 1.67, 1.80, 1.78, 1.49, 1.09, 0.72, 0.47, 0.31, 0.23,
)

# Seasonality of a normal year (no lockdown): a summer high, the August dip,
# a September rebound and a winter low. Relative to the yearly mean.
MONTH_FACTORS: tuple[float, ...] = (
    0.72, 0.78, 0.92, 1.02, 1.08, 1.18, 1.06, 0.74, 1.22, 1.08, 0.86, 0.72,
)
