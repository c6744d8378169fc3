"""Raw Paris counter export -> clean features and the fixed train/test split."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
