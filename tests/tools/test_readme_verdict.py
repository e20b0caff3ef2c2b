"""The README's top shows the verdict of the committed record (notebook 04 on the default profile)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RECORD = ROOT / "results" / "default" / "tables" / "04_verdict.md"


def _tool():
    spec = importlib.util.spec_from_file_location("readme_verdict", ROOT / "tools" / "readme_verdict.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_shows_the_committed_verdict():
    tool = _tool()
    assert RECORD.is_file(), "results/default/tables/04_verdict.md is part of the committed record"
    assert tool.verdict_block((ROOT / "README.md").read_text(encoding="utf-8")) == RECORD.read_text(encoding="utf-8")


def test_the_block_is_replaced_and_nothing_else(tmp_path):
    tool = _tool()
    readme = f"# title\n\nintro\n{tool.BEGIN}\nold table\n{tool.END}\n\n## more\n"
    updated = tool.with_verdict(readme, "| a | b |\n|---|---|\n")
    assert updated == f"# title\n\nintro\n{tool.BEGIN}\n| a | b |\n|---|---|\n{tool.END}\n\n## more\n"
    assert tool.verdict_block(updated) == "| a | b |\n|---|---|\n"
    with pytest.raises(ValueError, match="exactly one"):
        tool.with_verdict("no markers", "x")
