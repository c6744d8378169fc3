"""Drift of a recent window against the training baseline, and an ok/alert/retrain decision."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
