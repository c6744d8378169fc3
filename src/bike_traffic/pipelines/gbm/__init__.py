"""Gradient boosting (HistGradientBoostingRegressor) regression of the hourly count."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
