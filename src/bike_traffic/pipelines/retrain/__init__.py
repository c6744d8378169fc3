"""Challengers trained on recent data, judged on the fixed test set by the registry's rule."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
