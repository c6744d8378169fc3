"""The models of the project: one module per model family, the predictor they serve through.

* :mod:`~bike_traffic.models.spec`: the facts of each model type (one :class:`ModelSpec`);
* :mod:`~bike_traffic.models.rf`, :mod:`~bike_traffic.models.classifier`,
  :mod:`~bike_traffic.models.nn`: fit and predict of each family, on the feature table;
* :mod:`~bike_traffic.models.predictor`: the complete predictor logged to MLflow, from
  raw inputs (counter, local time) through :mod:`bike_traffic.features` to predictions;
* :mod:`~bike_traffic.models.evaluation` and :mod:`~bike_traffic.models.plots`: how every
  model is judged and shown.

Both the Kedro nodes and the predictor call these functions: each exists once.
"""
