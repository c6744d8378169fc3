"""bike_traffic: hourly bicycle counts at the City of Paris counting stations."""

__version__ = "0.1.0"
