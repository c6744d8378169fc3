"""The registry's summary.json only grows, refuses bad shapes and loses nothing under load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from filelock import FileLock
from kedro.io.core import DatasetError

from bike_traffic.datasets.summary_store import (
    SummaryFormatError,
    SummaryJSONDataset,
    validate_summary,
)
from tests.conftest import PROJECT_ROOT

if TYPE_CHECKING:
    from tests.gcs_emulator_server import Emulator

# The fixtures gcs_emulator and gcs_shared_emulator.
pytest_plugins = ["tests.gcs_emulator"]

WRITERS = 8
APPENDS_PER_WRITER = 25
JOIN_TIMEOUT_S = 120


@pytest.fixture(autouse=True)
def _run_from_the_project_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Spawned writers start in the cwd: make sure it exists (earlier tests use temp folders)."""
    monkeypatch.chdir(PROJECT_ROOT)


def entry(entry_type: str = "model", **extra: object) -> dict:
    """A well-formed summary entry."""
    return {"timestamp": datetime.now(UTC).isoformat(), "entry_type": entry_type, **extra}


_WRITER = """
import sys
from datetime import UTC, datetime
from bike_traffic.datasets.summary_store import SummaryJSONDataset
path, writer, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
dataset = SummaryJSONDataset(filepath=path, lock_timeout=60)
sys.stdin.read()  # every writer starts when the test closes the pipe
for i in range(count):
    stamp = datetime.now(UTC).isoformat()
    dataset.save([{"timestamp": stamp, "entry_type": "model", "writer": writer, "i": i}])
"""


def run_concurrent_writers(filepath: str) -> None:
    """Start WRITERS separate Python processes appending to ``filepath`` at once."""
    go_read, go_write = os.pipe()  # every writer's stdin: it ends when the test says go
    try:
        processes = [
            subprocess.Popen(  # noqa: S603
                [sys.executable, "-c", _WRITER, filepath, str(w), str(APPENDS_PER_WRITER)],
                cwd=PROJECT_ROOT,
                stdin=go_read,
                stderr=subprocess.PIPE,
                text=True,
            )
            for w in range(WRITERS)
        ]
    finally:
        os.close(go_read)
        os.close(go_write)  # go
    errors = []
    for process in processes:
        try:
            _, err = process.communicate(timeout=JOIN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate()
        if process.returncode != 0:
            errors.append(err[-2000:])
    assert not errors, errors


def assert_every_append_kept(history: list[dict]) -> None:
    """Every (writer, i) pair is present exactly once, and each writer's appends in order."""
    assert len(history) == WRITERS * APPENDS_PER_WRITER
    counts = Counter((e["writer"], e["i"]) for e in history)
    expected = {(w, i) for w in range(WRITERS) for i in range(APPENDS_PER_WRITER)}
    assert set(counts) == expected
    assert set(counts.values()) == {1}
    for writer in range(WRITERS):
        assert [e["i"] for e in history if e["writer"] == writer] == list(range(APPENDS_PER_WRITER))


def snapshot(path: Path) -> tuple[bytes, int, int]:
    """The file's bytes, modification time and inode, to prove it was not touched."""
    stat = path.stat()
    return path.read_bytes(), stat.st_mtime_ns, stat.st_ino


# validate_summary --------------------------------------------------------------------


def test_validate_summary_accepts_a_history_and_returns_it():
    history = [entry("model", run_id="abc"), entry("promotion"), entry("drift", psi=0.1)]
    assert validate_summary(history, "summary.json") is history
    assert validate_summary([], "summary.json") == []


@pytest.mark.parametrize(
    ("entries", "problem"),
    [
        ({"timestamp": "t", "entry_type": "model"}, r"must be a JSON list.*found an object"),
        ("[]", r"must be a JSON list.*found a string"),
        ([{"timestamp": "t", "entry_type": "model"}, ["x"]], r"entry 1 is a list, not an"),
        ([{"timestamp": "t", "entry_type": "model"}, None], r"entry 1 is null"),
        ([{"entry_type": "model"}], r"entry 0 lacks the key 'timestamp'"),
        ([entry(), {"timestamp": "t"}], r"entry 1 lacks the key 'entry_type'"),
        ([{"timestamp": 1700000000, "entry_type": "model"}], r"entry 0 has 'timestamp'.*num"),
        ([entry(), entry(), {"timestamp": "t", "entry_type": None}], r"entry 2 .*'entry_type'"),
        ([{"timestamp": "t", "entry_type": " "}], r"entry 0 has an empty 'entry_type'"),
    ],
)
def test_validate_summary_names_the_file_the_entry_and_the_problem(entries, problem):
    with pytest.raises(SummaryFormatError, match=rf"registry/summary\.json.*{problem}"):
        validate_summary(entries, "registry/summary.json")


def test_summary_format_error_is_a_dataset_error():
    assert issubclass(SummaryFormatError, DatasetError)


# Local file ------------------------------------------------------------------------


def test_missing_file_loads_as_empty_history(tmp_path):
    dataset = SummaryJSONDataset(filepath=str(tmp_path / "summary.json"))
    assert dataset.load() == []
    assert not dataset.exists()


def test_save_appends_and_creates_parent_folders(tmp_path):
    path = tmp_path / "06_models" / "registry" / "summary.json"
    dataset = SummaryJSONDataset(filepath=str(path))
    first = entry("model", run_id="r1")
    dataset.save([first])
    assert dataset.exists()
    assert dataset.load() == [first]
    assert json.loads(path.read_text(encoding="utf-8")) == [first]
    assert not list(path.parent.glob(".summary.json.*.tmp"))  # no temporary file left


def test_a_save_removes_what_a_killed_writer_left(tmp_path):
    path = tmp_path / "summary.json"
    dataset = SummaryJSONDataset(filepath=str(path))
    dataset.save([entry("model", run_id="r1")])
    strays = [tmp_path / ".summary.json.abc123.tmp", tmp_path / ".summary.json.xyz.tmp"]
    for stray in strays:
        stray.write_bytes(b'[{"half": ')  # a writer killed mid-write
    other = tmp_path / ".other.json.abc.tmp"
    other.write_text("not ours")
    dataset.save([entry("decision", keep=True)])
    assert not any(stray.exists() for stray in strays) and other.exists()
    assert [e["entry_type"] for e in dataset.load()] == ["model", "decision"]


def test_the_revision_changes_with_every_save(tmp_path):
    dataset = SummaryJSONDataset(filepath=str(tmp_path / "summary.json"))
    seen = {dataset.revision()}
    for number in range(3):
        dataset.save([entry("note", number=number)])
        seen.add(dataset.revision())
    assert len(seen) == 4
    assert dataset.revision() == dataset.revision()  # reading changes nothing


def test_two_saves_keep_both_in_order(tmp_path):
    path = tmp_path / "summary.json"
    first = [entry("model", run_id="r1"), entry("decision", keep=True)]
    second = [entry("promotion", version=2)]
    SummaryJSONDataset(filepath=str(path)).save(first)
    SummaryJSONDataset(filepath=f"file://{path}").save(second)
    assert SummaryJSONDataset(filepath=str(path)).load() == first + second


def test_save_keeps_entries_another_writer_added(tmp_path):
    path = tmp_path / "summary.json"
    path.write_text(json.dumps([entry("rollback", by="hand")]))
    dataset = SummaryJSONDataset(filepath=str(path))
    dataset.save([entry("model")])
    assert [e["entry_type"] for e in dataset.load()] == ["rollback", "model"]


def test_bad_new_entries_are_refused_and_write_nothing(tmp_path):
    path = tmp_path / "summary.json"
    dataset = SummaryJSONDataset(filepath=str(path))
    with pytest.raises(SummaryFormatError, match=r"summary\.json \(entries to append\).*entry 1"):
        dataset.save([entry(), {"timestamp": "t"}])
    with pytest.raises(SummaryFormatError, match=r"must be a JSON list"):
        dataset.save(entry())
    with pytest.raises(SummaryFormatError, match=r"entry 0 cannot be written as JSON"):
        dataset.save([entry(score=float("nan"))])
    with pytest.raises(SummaryFormatError, match=r"entry 0 cannot be written as JSON"):
        dataset.save([entry(model=object())])
    assert not path.exists()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b'[\n {"timestamp": "t", "entry_type": "model"},\n {oops}\n]', r"line 3, column 3"),
        (b'[{"timestamp": "t", "entry_type": "model"}', r"not valid JSON.*line 1"),
        (b"", r"not valid JSON.*line 1, column 1"),
        (b'{"timestamp": "t", "entry_type": "model"}', r"must be a JSON list"),
        (b'[{"timestamp": "t", "entry_type": "model"}, {"entry_type": "x"}]', r"entry 1 lacks"),
        (b'["\xff"]', r"not UTF-8"),
    ],
)
def test_corrupt_file_is_refused_and_left_byte_for_byte(tmp_path, content, problem):
    path = tmp_path / "summary.json"
    path.write_bytes(content)
    before = snapshot(path)
    dataset = SummaryJSONDataset(filepath=str(path))
    with pytest.raises(SummaryFormatError, match=rf"summary\.json.*{problem}"):
        dataset.load()
    with pytest.raises(SummaryFormatError, match=rf"summary\.json.*{problem}"):
        dataset.save([entry()])
    assert snapshot(path) == before
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == [
        "summary.json"
    ]


def test_a_held_lock_does_not_block_reads_and_times_writes_out(tmp_path):
    path = tmp_path / "summary.json"
    dataset = SummaryJSONDataset(filepath=str(path), lock_timeout=0.2)
    dataset.save([entry("model")])
    before = snapshot(path)
    with FileLock(f"{path}.lock"):
        assert [e["entry_type"] for e in dataset.load()] == ["model"]
        with pytest.raises(DatasetError, match=r"Could not lock .*summary\.json\.lock.*0\.2 s"):
            dataset.save([entry("promotion")])
    assert snapshot(path) == before
    dataset.save([entry("promotion")])  # the lock is free again
    assert [e["entry_type"] for e in dataset.load()] == ["model", "promotion"]


def test_a_leftover_lock_file_breaks_nothing(tmp_path):
    path = tmp_path / "summary.json"
    (tmp_path / "summary.json.lock").write_text("")
    dataset = SummaryJSONDataset(filepath=str(path), lock_timeout=5)
    assert dataset.load() == []
    dataset.save([entry()])
    assert len(dataset.load()) == 1


def test_save_keeps_the_file_permissions(tmp_path):
    path = tmp_path / "summary.json"
    path.write_text("[]")
    path.chmod(0o640)
    SummaryJSONDataset(filepath=str(path)).save([entry()])
    assert path.stat().st_mode & 0o777 == 0o640


def test_concurrent_local_writers_lose_nothing(tmp_path):
    path = tmp_path / "summary.json"
    run_concurrent_writers(str(path))
    json.loads(path.read_text(encoding="utf-8"))  # valid JSON
    assert_every_append_kept(SummaryJSONDataset(filepath=str(path)).load())


# Configuration ---------------------------------------------------------------------


@pytest.mark.parametrize("filepath", ["s3://bucket/summary.json", "https://host/summary.json"])
def test_other_protocols_are_refused_naming_the_supported_ones(filepath):
    with pytest.raises(DatasetError, match=r"does not support the .* protocol.*file://.*gs://"):
        SummaryJSONDataset(filepath=filepath)


def test_gs_path_must_name_an_object():
    with pytest.raises(DatasetError, match=r"must name an object"):
        SummaryJSONDataset(filepath="gs://bucket-only")


def test_unknown_fs_args_are_refused(tmp_path):
    with pytest.raises(DatasetError, match=r"does not accept fs_args \['mode'\]"):
        SummaryJSONDataset(filepath=str(tmp_path / "s.json"), fs_args={"mode": "w"})


def test_description_shows_the_path_never_the_credentials():
    dataset = SummaryJSONDataset(
        filepath="gs://bucket/registry/summary.json",
        credentials={"token": {"private_key": "SECRET-KEY"}, "project": "p"},
    )
    assert "gs://bucket/registry/summary.json" in str(dataset)
    assert "SECRET" not in str(dataset) + repr(dataset)


# Google Cloud Storage (fake-gcs-server) ------------------------------------------------


def gs_path(emulator: Emulator, name: str = "registry/summary.json") -> str:
    return f"gs://{emulator.bucket}/{name}"


def storage_bucket(emulator: Emulator):
    """The emulator's bucket through google-cloud-storage, as another client sees it."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    client = storage.Client(project="test-project", credentials=AnonymousCredentials())
    return client.bucket(emulator.bucket)


def blob_of(emulator: Emulator, name: str = "registry/summary.json"):
    """The object's current metadata (generation, content type), or None."""
    return storage_bucket(emulator).get_blob(name)


def test_gcs_load_missing_then_append_twice(gcs_shared_emulator):
    dataset = SummaryJSONDataset(filepath=gs_path(gcs_shared_emulator))
    assert dataset.load() == []
    assert not dataset.exists()
    assert dataset.revision() == ("absent",)
    first, second = [entry("model", run_id="r1")], [entry("promotion", version=1)]
    dataset.save(first)
    revision = dataset.revision()
    dataset.save(second)
    assert dataset.revision() != revision  # the object's generation
    assert dataset.exists()
    assert dataset.load() == first + second
    blob = blob_of(gcs_shared_emulator)
    assert blob.content_type == "application/json"
    assert json.loads(blob.download_as_bytes()) == first + second


@pytest.mark.parametrize(
    "credentials",
    [None, {"token": "anon"}, {"token": "anon", "project": "p"}, {"token": "google_default"}],
)
def test_gcs_credentials_forms_work_on_the_emulator(gcs_shared_emulator, credentials):
    dataset = SummaryJSONDataset(filepath=gs_path(gcs_shared_emulator), credentials=credentials)
    dataset.save([entry()])
    assert len(dataset.load()) == 1


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"{not json", r"not valid JSON.*line 1, column 2"),
        (b'{"timestamp": "t", "entry_type": "model"}', r"must be a JSON list"),
        (b'[{"timestamp": "t", "entry_type": 3}]', r"entry 0 has 'entry_type'"),
    ],
)
def test_gcs_corrupt_object_is_refused_and_left_unchanged(gcs_shared_emulator, content, problem):
    bucket = storage_bucket(gcs_shared_emulator)
    bucket.blob("registry/summary.json").upload_from_string(content)
    before = bucket.get_blob("registry/summary.json")
    dataset = SummaryJSONDataset(filepath=gs_path(gcs_shared_emulator))
    match = rf"gs://{gcs_shared_emulator.bucket}/registry/summary\.json.*{problem}"
    with pytest.raises(SummaryFormatError, match=match):
        dataset.save([entry()])
    with pytest.raises(SummaryFormatError, match=match):
        dataset.load()
    after = bucket.get_blob("registry/summary.json")
    assert after.generation == before.generation
    assert after.download_as_bytes() == content


def test_gcs_concurrent_writers_lose_nothing(gcs_shared_emulator):
    run_concurrent_writers(gs_path(gcs_shared_emulator))
    raw = blob_of(gcs_shared_emulator).download_as_bytes()
    json.loads(raw)  # valid JSON
    assert_every_append_kept(SummaryJSONDataset(filepath=gs_path(gcs_shared_emulator)).load())


def test_gcs_unreachable_server_is_a_clear_error_not_a_hang(gcs_emulator):
    path = gs_path(gcs_emulator)
    dataset = SummaryJSONDataset(filepath=path, lock_timeout=1)
    dataset.save([entry()])
    gcs_emulator.stop()
    where = path.replace(".", r"\.")
    with pytest.raises(DatasetError, match=rf"Cannot reach Google Cloud Storage.*{where}"):
        dataset.save([entry("promotion")])
    with pytest.raises(DatasetError, match=rf"Cannot reach Google Cloud Storage.*{where}"):
        dataset.load()
    with pytest.raises(DatasetError, match=rf"{where}"):
        dataset.exists()


@pytest.mark.parametrize("landed", [True, False], ids=["upload-landed", "upload-lost"])
def test_gcs_upload_with_unknown_outcome_is_neither_lost_nor_duplicated(
    gcs_shared_emulator, monkeypatch, landed
):
    import requests
    from google.cloud.storage import Blob

    upload = Blob.upload_from_string
    failures = []

    def flaky_upload(self, data, **kwargs):
        if not failures:  # the first upload: the connection breaks, before or after it lands
            failures.append(data)
            if landed:
                upload(self, data, **kwargs)
            raise requests.ConnectionError("connection reset by peer")
        return upload(self, data, **kwargs)

    dataset = SummaryJSONDataset(filepath=gs_path(gcs_shared_emulator))
    dataset.save([entry("model")])
    monkeypatch.setattr(Blob, "upload_from_string", flaky_upload)
    dataset.save([entry("promotion")])
    assert failures
    assert [e["entry_type"] for e in dataset.load()] == ["model", "promotion"]


def test_gcs_refusal_names_the_path(gcs_shared_emulator):
    dataset = SummaryJSONDataset(filepath=f"gs://no-such-bucket-{gcs_shared_emulator.port}/s.json")
    with pytest.raises(DatasetError, match=r"refused to write summary 'gs://no-such-bucket-\d+/"):
        dataset.save([entry()])
