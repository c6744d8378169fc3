"""Start a local Google Cloud Storage emulator to try ``kedro run --env prod`` without a cloud.

fake-gcs-server (from the dev extra, ``pip install -e '.[dev]'``) listens on 127.0.0.1
only, the bucket is created, and the script prints the environment variables that point
gcsfs, google-cloud-storage and MLflow at it. It runs in the foreground until Ctrl-C
(or SIGTERM), then stops the server. Run the project from a second terminal:

    python scripts/start_gcs_emulator.py                 # bucket bike-traffic-prod
    # in another terminal, paste the `export ...` lines it printed, then:
    kedro run --pipelines data_cleaning --env prod

Objects live in memory and vanish when it stops, with the MLflow tracking store it
names (a SQLite file in the same temporary folder). ``--state-dir DIR`` keeps both in
DIR instead, so a later start on the same DIR finds the bucket as it was left.
See docs/prod.md.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import tempfile
import threading
from pathlib import Path

os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
os.environ.setdefault("NO_GCE_CHECK", "true")

# The emulator lives beside the tests' fixtures (tests/gcs_emulator_server.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.gcs_emulator_server import emulator_environment, start_emulator  # noqa: E402

DEFAULT_BUCKET = "bike-traffic-prod"  # conf/prod/globals.yml's default


def main(argv: list[str] | None = None) -> int:
    """Start the emulator, print the variables to export, wait for Ctrl-C, stop it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--bucket",
        default=os.environ.get("BIKE_TRAFFIC_BUCKET", DEFAULT_BUCKET),
        help="bucket to create (default: $BIKE_TRAFFIC_BUCKET or %(default)s)",
    )
    parser.add_argument("--port", type=int, default=4443, help="port on 127.0.0.1 (0: any)")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="keep the bucket's objects and the MLflow store here across restarts "
        "(default: a temporary folder, removed on exit)",
    )
    args = parser.parse_args(argv)

    temporary = None
    if args.state_dir is None:
        temporary = tempfile.TemporaryDirectory(prefix="bike_traffic_gcs_")
        state = Path(temporary.name)
        storage_root = None
    else:
        state = args.state_dir.resolve()
        storage_root = state / "storage"
    state.mkdir(parents=True, exist_ok=True)
    gcloud_config = state / "gcloud-config"  # empty: no real Google login is picked up
    gcloud_config.mkdir(exist_ok=True)

    emulator = start_emulator(
        state, bucket=args.bucket, storage_root=storage_root, port=args.port or None
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        env = {
            **emulator_environment(emulator, gcloud_config),
            "BIKE_TRAFFIC_BUCKET": args.bucket,
            # a tracking store of its own: an experiment keeps the artifact location
            # (this bucket) it was created with, so never share it with a real bucket
            "MLFLOW_TRACKING_URI": f"sqlite:///{state / 'mlflow.db'}",
        }
        env.pop("GOOGLE_CLOUD_PROJECT")  # only needed to create buckets from Python
        where = "in memory" if storage_root is None else f"in {storage_root}"
        print(f"fake-gcs-server {emulator.url}: bucket gs://{args.bucket}, objects {where}")
        print(f"log: {emulator.log_path}")
        print("\nIn another terminal, from the project folder:\n")
        for name, value in env.items():
            print(f"export {name}={shlex.quote(value)}")
        print("unset GOOGLE_APPLICATION_CREDENTIALS")
        print("\nCtrl-C stops the emulator.", flush=True)
        while not stop.is_set() and emulator.is_running():
            stop.wait(1.0)
        if not emulator.is_running():
            print(f"fake-gcs-server exited; see {emulator.log_path}", file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
        if temporary is not None:
            temporary.cleanup()
    print("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
