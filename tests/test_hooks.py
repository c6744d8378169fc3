"""bike_traffic.hooks: the tracking check (credentials sent, never shown), pickle refused."""

from __future__ import annotations

import base64
import http.server
import socket
import threading

import pytest

from bike_traffic.hooks import TrackingUnreachableError, check_tracking_uri


@pytest.fixture
def recording_server():
    """An HTTP server on 127.0.0.1 that records each request's path and Authorization."""
    seen: list[tuple[str, str | None]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append((self.path, self.headers.get("Authorization")))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"OK")

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], seen
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_credentials_in_the_uri_are_sent_as_basic_auth(recording_server):
    port, seen = recording_server
    check_tracking_uri(f"http://bob:pa%2Fss:w@127.0.0.1:{port}/")
    check_tracking_uri(f"http://127.0.0.1:{port}")
    expected = "Basic " + base64.b64encode(b"bob:pa/ss:w").decode()
    assert seen == [("/health", expected), ("/health", None)]


@pytest.mark.parametrize("password", ["s3cret", "s3/cr:et"], ids=["plain", "with-slash"])
def test_an_unreachable_server_is_named_without_its_password(password):
    port = _closed_port()
    with pytest.raises(TrackingUnreachableError) as raised:
        check_tracking_uri(f"http://bob:{password}@127.0.0.1:{port}", timeout=2)
    message = str(raised.value)
    assert f"http://***@127.0.0.1:{port} is unreachable" in message
    assert password not in message and "bob" not in message
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_mlflow_refuses_to_unpickle_a_model(tmp_path):
    import mlflow.sklearn
    from mlflow.exceptions import MlflowException
    from sklearn.dummy import DummyRegressor

    import bike_traffic.hooks  # noqa: F401  (the setting is made on import, as kedro does)

    folder = tmp_path / "pickled"
    mlflow.sklearn.save_model(
        DummyRegressor().fit([[0]], [0]), folder, serialization_format="cloudpickle"
    )
    with pytest.raises(MlflowException, match="(?i)pickle"):
        mlflow.sklearn.load_model(str(folder))


def test_a_tracking_store_copied_from_another_project_is_refused(tmp_path):
    from mlflow import MlflowClient

    from bike_traffic.hooks import CopiedStoreError, check_store_location

    original, copy = tmp_path / "original", tmp_path / "copy"
    original.mkdir()
    uri = f"sqlite:///{original / 'mlflow.db'}"
    MlflowClient(tracking_uri=uri).create_experiment(
        "bike_traffic", artifact_location=str(original / "mlartifacts")
    )
    own = {"name": "bike_traffic", "create_experiment_kwargs": {}}
    own["create_experiment_kwargs"]["artifact_location"] = str(original / "mlartifacts")
    check_store_location(uri, own)  # the project's own store: fine

    copy.mkdir()
    (copy / "mlflow.db").write_bytes((original / "mlflow.db").read_bytes())
    copied = {"name": "bike_traffic", "create_experiment_kwargs": {}}
    copied["create_experiment_kwargs"]["artifact_location"] = str(copy / "mlartifacts")
    with pytest.raises(CopiedStoreError, match=r"in .*original/mlartifacts, not in this"):
        check_store_location(f"sqlite:///{copy / 'mlflow.db'}", copied)
    # a store without the experiment yet, or another project's named on purpose, is not
    check_store_location(f"sqlite:///{copy / 'none.db'}", copied)
    check_store_location(uri, copied)
