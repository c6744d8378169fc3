"""What the Streamlit app needs beside its widgets, without importing Streamlit.

* :mod:`.forecasts`: a day's profile at a counter, every counter at an hour, reference
  profiles from the training data, the map's view;
* :mod:`.uploads`: reading an uploaded CSV (raw export or requests) and scoring it row
  by row with the cleaning pipeline's own checks and the loaded predictor.

Every prediction goes through the loaded MLflow model
(:class:`bike_traffic.registry.loading.LoadedModel`, i.e. the logged predictor).
"""
