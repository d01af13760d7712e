"""scripts/bootstrap.sh, which ./plait and ./test source."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_find_python_names_the_interpreter_not_a_launcher_script(tmp_path: Path) -> None:
    # pyenv puts scripts named python3.11 on PATH. Handing such a path to uv made it
    # rebuild .venv on every sync (and ./plait's --no-dev sync then dropped the dev tools).
    shim = tmp_path / "python3.11"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    shim.chmod(0o755)
    script = f'source "{ROOT}/scripts/bootstrap.sh" && find_python'
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "HOME": str(tmp_path)}
    found = subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert found != str(shim)
    probe = [found, "-c", "import sys; print(sys.executable)"]
    assert subprocess.run(probe, capture_output=True, text=True, check=True).stdout.strip() == found
    assert not Path(found).read_bytes().startswith(b"#!")
