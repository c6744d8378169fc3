"""Offline generator of the Paris counter export (the project's default data)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
