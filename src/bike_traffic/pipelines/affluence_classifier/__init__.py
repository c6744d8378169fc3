"""RandomForest classifier: is this hour high traffic for its counter?"""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
