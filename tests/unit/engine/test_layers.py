"""The engine knows node types only through `NodeType` and the `Registry`."""

from __future__ import annotations

import subprocess
import sys

ENGINE = ["cache", "context", "events", "executor", "live", "queue", "runner", "state", "worker"]


def test_importing_the_engine_loads_no_concrete_node_type() -> None:
    imports = "; ".join(f"import plait.engine.{module}" for module in ENGINE)
    show = "print(sorted(m for m in sys.modules if m.startswith('plait.nodes.')))"
    loaded = subprocess.run(
        [sys.executable, "-c", f"import sys; {imports}; {show}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert loaded == "['plait.nodes.base', 'plait.nodes.registry']"
