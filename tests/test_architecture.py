"""The layers hold (import-linter) and docs/architecture.md draws the imports as they are."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

from tests.conftest import PROJECT_ROOT


def _import_graph():
    spec = importlib.util.spec_from_file_location(
        "import_graph", PROJECT_ROOT / "scripts" / "import_graph.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_import_contracts_hold():
    lint = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run(
        [str(lint), "--no-cache"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "4 kept, 0 broken" in done.stdout


def test_the_architecture_picture_is_the_codes_import_graph():
    graph = _import_graph()
    text = (PROJECT_ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert graph.current_block(text) == graph.mermaid(), (
        "docs/architecture.md is stale: run `python scripts/import_graph.py --write-docs`"
    )


def test_no_part_imports_a_layer_above_it():
    graph = _import_graph()
    depth = {part: i for i, layer in enumerate(graph.LAYERS) for part in layer}
    upward = [(a, b) for a, b in graph.edges() if depth[b] <= depth[a]]
    assert upward == []
