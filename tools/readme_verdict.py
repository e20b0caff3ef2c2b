"""Copy the main job's verdict (notebook 04's ``tables/04_verdict.md``) into the README's top.

``make run`` calls it after the notebooks: the README then shows the verdict of the committed
record, and ``tests/tools/test_readme_verdict.py`` fails when the two disagree. The block sits
between :data:`BEGIN` and :data:`END`; everything else in the README is left as it is.

Usage: ``python tools/readme_verdict.py [VERDICT_MD] [README]`` (defaults: the ``default``
profile's verdict and the project's README).
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEGIN = "<!-- verdict: begin (written by tools/readme_verdict.py from results/default/tables/04_verdict.md) -->"
END = "<!-- verdict: end -->"


def verdict_block(readme_text: str) -> str:
    """The text between the markers (without them)."""
    if readme_text.count(BEGIN) != 1 or readme_text.count(END) != 1:
        raise ValueError(f"the README needs exactly one {BEGIN!r} and one {END!r} line")
    return readme_text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def with_verdict(readme_text: str, verdict_markdown: str) -> str:
    """``readme_text`` with the block between the markers replaced by ``verdict_markdown``."""
    verdict_block(readme_text)  # checks the markers
    head, rest = readme_text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    return f"{head}{BEGIN}\n{verdict_markdown.strip()}\n{END}{tail}"


def main(argv: list[str]) -> int:
    verdict_path = Path(argv[0]) if argv else ROOT / "results" / "default" / "tables" / "04_verdict.md"
    readme_path = Path(argv[1]) if len(argv) > 1 else ROOT / "README.md"
    if not verdict_path.is_file():
        print(f"{verdict_path} not found: run notebook 04 first (make run)", file=sys.stderr)
        return 2
    updated = with_verdict(readme_path.read_text(encoding="utf-8"), verdict_path.read_text(encoding="utf-8"))
    readme_path.write_text(updated, encoding="utf-8")
    print(f"{readme_path.name}: verdict copied from {verdict_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
