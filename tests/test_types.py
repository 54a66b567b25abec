"""The package type-checks: mypy with the project's configuration (``[tool.mypy]`` in
pyproject.toml: the whole package, the pipeline's core strictly), so CI enforces it."""

from __future__ import annotations

from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_mypy_clean(tmp_path: Path) -> None:
    # a fresh cache per run: a stale one from another checkout must not hide an error
    out, err, code = api.run(["--config-file", str(ROOT / "pyproject.toml"),
                              "--cache-dir", str(tmp_path / "cache"), str(ROOT / "hwbopt")])
    assert code == 0, f"mypy found errors:\n{out}{err}"
