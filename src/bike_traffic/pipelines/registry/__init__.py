"""``registry``: champions re-scored on demand; the registration composed after every model run."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
