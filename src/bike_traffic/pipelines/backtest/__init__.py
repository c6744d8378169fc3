"""Rolling-origin backtests of every model type against the naive references."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
