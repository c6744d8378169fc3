"""The package's modules and who imports whom, as a Mermaid graph for docs/architecture.md.

    python scripts/import_graph.py               # print the graph
    python scripts/import_graph.py --write-docs  # rewrite it in docs/architecture.md

The graph is computed from the code with grimp (what import-linter checks the layers
with), so the picture in the docs is the code's; tests/test_architecture.py fails when it
is stale.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"
BEGIN, END = "<!-- import-graph:begin -->", "<!-- import-graph:end -->"

#: The package's parts, top (entry points) to bottom (formats), as the layers contract has them.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("cli", "settings"),
    ("pipeline_registry", "serving"),
    ("pipelines",),
    ("project",),
    ("hooks",),
    ("registry", "datasets"),
    ("models",),
    ("features", "validation", "outages"),
    ("exogenous",),
    ("raw_format", "calendar", "csv_text", "redaction"),
)


def edges() -> list[tuple[str, str]]:
    """Every direct import between two parts of the package (``importer``, ``imported``)."""
    import grimp

    graph = grimp.build_graph("bike_traffic")
    parts = [p for layer in LAYERS for p in layer]
    return [
        (a, b)
        for a, b in itertools.permutations(parts, 2)
        if graph.direct_import_exists(
            importer=f"bike_traffic.{a}", imported=f"bike_traffic.{b}", as_packages=True
        )
    ]


def mermaid() -> str:
    """The graph as a Mermaid block: one row per layer, arrows from importer to imported."""
    lines = ["```mermaid", "flowchart TB"]
    for depth, layer in enumerate(LAYERS):
        lines.append(f'  subgraph L{depth}[" "]')
        lines.extend(f"    {part}[{part}]" for part in layer)
        lines.append("  end")
    lines.extend(f"  {a} --> {b}" for a, b in edges())
    lines.append("```")
    return "\n".join(lines)


def current_block(text: str) -> str:
    """The graph written in the docs (between the markers)."""
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip()


def main() -> int:
    """Print the graph, or write it into docs/architecture.md."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--write-docs", action="store_true", help="rewrite docs/architecture.md")
    args = parser.parse_args()
    block = mermaid()
    if not args.write_docs:
        sys.stdout.write(block + "\n")
        return 0
    text = DOC.read_text(encoding="utf-8")
    before, rest = text.split(BEGIN, 1)
    after = rest.split(END, 1)[1]
    DOC.write_text(f"{before}{BEGIN}\n{block}\n{END}{after}", encoding="utf-8")
    sys.stdout.write(f"wrote the import graph into {DOC}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
