"""Keras regression of the hourly count with an embedding of the counter."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
