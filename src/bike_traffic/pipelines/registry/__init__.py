"""Model registry: append-only summary.json, MLflow Model Registry, champion/challenger."""

from .pipeline import create_pipeline, registry_template

__all__ = ["create_pipeline", "registry_template"]
