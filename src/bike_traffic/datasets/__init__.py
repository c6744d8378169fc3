"""The project's Kedro datasets: I/O that kedro-datasets does not give out of the box.

* :class:`~.raw_export.RawExportDataset`: the portal's export, read as text and checked;
* :class:`~.summary_store.SummaryJSONDataset`: the registry's append-only ``summary.json``
  (file lock and atomic rename locally, compare-and-swap on GCS);
* :class:`~.mlflow.MlflowPredictorDataset`: a model type's predictor, logged to MLflow;
* :class:`~.mlflow.MlflowArtifactDataset`: a file also logged as a run artifact, on any
  fsspec filesystem.
"""
