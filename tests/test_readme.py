"""The README's examples run as written: every fenced ``python`` and ``bash`` block, in order.

Sybil (https://sybil.readthedocs.io) reads ``README.md``'s fenced code blocks; each block is one
test here, run in the README's order in one namespace, as a reader pasting the blocks into one
Python session would run them. A block added to the README is picked up without touching this
file.

- **Profile.** The blocks that run experiments load the profile named by the environment
  variable :data:`PROFILE_VARIABLE` (``DIAMLIB_EXAMPLE_PROFILE``), ``default`` when it is unset, as
  the README's first library block shows; the tests set it to ``smoke``.
- **Where.** The blocks run in a scratch folder (pytest's ``tmp_path_factory``): the
  ``results/mine`` and the files the examples write go there, never into the checkout. Shell
  blocks run there too, with ``bash -euo pipefail``, this interpreter's folder first on ``PATH``
  (``python`` is this environment's) and the checkout on ``PYTHONPATH``; the scratch folder links
  the checkout's ``benchmarks/`` so that the README's ``python benchmarks/...`` commands find it.
- **``__main__``.** The namespace's ``__name__`` is ``"__main__"``, as in a notebook, a console or
  a script run directly, so that code under ``if __name__ == "__main__":`` runs.
- **Skipped blocks.** A block that needs a GPU, a cluster, the network or runs the full main job
  is preceded in the README by ``<!-- skip: next "reason" -->``; it is reported as skipped with
  that reason.
- **Order.** A block may continue the ones above it (the README says so in a comment), so each
  test first evaluates every earlier block not yet evaluated (``pytest -k`` on one block works);
  a block after a failed one is skipped, naming the failed block.

Run time on the ``smoke`` profile: about 2-3 minutes on two CPU cores, most of it the smoke
classification grid of the first library block.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import unittest
from pathlib import Path

import pytest
from sybil import Document, Example, Sybil
from sybil.evaluators.skip import Skipper
from sybil.parsers.markdown import CodeBlockParser, PythonCodeBlockParser, SkipParser
from sybil.parsers.markdown.lexers import RawFencedCodeBlockLexer

from diamlib.paths import project_root

README = project_root() / "README.md"
#: The environment variable whose value the README's blocks load as their profile (``default`` unset).
PROFILE_VARIABLE = "DIAMLIB_EXAMPLE_PROFILE"
#: The profile the tests run the README's blocks on.
TEST_PROFILE = "smoke"
#: Fenced-block languages the tests evaluate; a block in any other language fails the coverage test.
LANGUAGES = ("python", "bash")
#: Seconds a shell block may run.
SHELL_TIMEOUT = 300


def run_shell(example: Example) -> str | None:
    """Evaluate a ``bash`` block in the current folder; a message (the failure) when it exits non-zero."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(project_root()), env.get("PYTHONPATH")) if p)
    try:
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", str(example.parsed)], env=env, text=True,
                              capture_output=True, timeout=SHELL_TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"the shell block ran past {SHELL_TIMEOUT} s"
    if done.returncode != 0:
        return (f"the shell block exited with code {done.returncode}\n--- stdout (end)\n{done.stdout[-3000:]}"
                f"\n--- stderr (end)\n{done.stderr[-3000:]}")
    return None


def readme_sybil() -> Sybil:
    """The parsers of the README: Python blocks, shell blocks, and ``skip`` directives."""
    return Sybil(parsers=[PythonCodeBlockParser(), CodeBlockParser(language="bash", evaluator=run_shell),
                          SkipParser()])


def is_directive(example: Example) -> bool:
    return isinstance(example.region.evaluator, Skipper)


class ReadmeRun:
    """The README's examples, evaluated once each, in order, in the document's namespace."""

    def __init__(self, path: Path):
        self.document: Document = readme_sybil().parse(path)
        self.examples = list(self.document.examples())
        self.blocks = [i for i, example in enumerate(self.examples) if not is_directive(example)]
        self.done = 0  # examples[:done] are evaluated
        self.failed: Example | None = None
        self.document.namespace["__name__"] = "__main__"

    def run_through(self, index: int) -> None:
        """Evaluate the examples up to ``index`` (skip directives included); raise what ``index`` raised."""
        if self.failed is not None and self.failed is not self.examples[index]:
            pytest.skip(f"README line {self.failed.line} failed, and this block may continue it")
        while self.done <= index:
            example = self.examples[self.done]
            self.done += 1
            try:
                example.evaluate()
            except unittest.SkipTest as skipped:
                if self.done - 1 == index:
                    pytest.skip(f"README line {example.line}: {skipped}")
            except Exception:
                self.failed = example
                if self.done - 1 == index:
                    raise
                pytest.skip(f"README line {example.line} failed, and this block may continue it")


RUN = ReadmeRun(README)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """A scratch folder as the working directory, and the test profile in the environment."""
    folder = tmp_path_factory.mktemp("readme")
    (folder / "benchmarks").symlink_to(project_root() / "benchmarks", target_is_directory=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.setenv(PROFILE_VARIABLE, TEST_PROFILE)
        yield folder


def _block_id(index: int) -> str:
    example = RUN.examples[index]
    return f"line{example.line}-{example.region.lexemes.get('arguments', 'block')}"


@pytest.mark.parametrize("index", RUN.blocks, ids=_block_id)
def test_readme_block(index: int, scratch: Path):
    RUN.run_through(index)


GUARD = 'if __name__ == "__main__":'
#: The Python blocks written to run as a script too (those with a ``__main__`` guard).
SCRIPT_BLOCKS = [i for i in RUN.blocks if RUN.examples[i].region.lexemes.get("arguments") == "python"
                 and GUARD in str(RUN.examples[i].parsed)]


@pytest.mark.parametrize("index", SCRIPT_BLOCKS, ids=_block_id)
def test_guarded_block_runs_as_a_script(index: int, scratch: Path):
    """A block with a ``__main__`` guard runs as a script in a fresh process, Dask's worker processes included.

    Run after the blocks above, in the same scratch folder: its runs are finished, so the grid only
    starts its workers (which import the script) and gathers what is there.
    """
    example = RUN.examples[index]
    script = scratch / f"readme_line{example.line}.py"
    script.write_text(str(example.parsed))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(project_root()), os.environ.get("PYTHONPATH"))
                                                      if p))
    done = subprocess.run([sys.executable, script.name], env=env, text=True, capture_output=True,
                          timeout=SHELL_TIMEOUT)
    assert done.returncode == 0, (f"README line {example.line}, run as a script, exited with code {done.returncode}:"
                                  f"\n{done.stderr[-4000:]}")


def test_every_fenced_block_is_collected():
    """Every fenced block of the README is one the tests evaluate or skip, none silently left out."""
    lexer = RawFencedCodeBlockLexer(info_pattern=re.compile(r"(?P<info>[^\n]*)$\n", re.MULTILINE))
    infos = [region.lexemes["info"].strip() for region in lexer(Document(README.read_text(), str(README)))]
    others = sorted({info for info in infos if info not in LANGUAGES})
    assert not others, (f"README.md has fenced blocks in {others}, which tests/test_readme.py does not run; write "
                        f"them as one of {LANGUAGES} or teach the test the language")
    assert len(RUN.blocks) == len(infos), f"{len(infos)} fenced blocks in README.md, {len(RUN.blocks)} collected"
    assert infos.count("python") >= 1


# --------------------------------------------------------------------------- the notebooks' markdown cells
def markdown_cell_documents(notebook: Path) -> list[Document]:
    """One sybil document per markdown cell of ``notebook`` that holds a block the README's parsers read."""
    import nbformat

    parsers = readme_sybil().parsers
    documents = []
    for number, cell in enumerate(nbformat.read(notebook, as_version=4).cells):
        if cell.cell_type != "markdown":
            continue
        document = Document(cell.source, f"{notebook.name}, cell {number}")
        for parser in parsers:
            for region in parser(document):
                document.add(region)
        if document.regions:
            documents.append(document)
    return documents


NOTEBOOKS_WITH_CODE = [path for path in sorted((project_root() / "notebooks").glob("*.ipynb"))
                       if markdown_cell_documents(path)]


@pytest.mark.parametrize("notebook", NOTEBOOKS_WITH_CODE or [
    pytest.param(None, marks=pytest.mark.skip(reason="no fenced code block in any notebook's markdown cells"))],
    ids=lambda path: getattr(path, "name", "none"))
def test_notebook_markdown_blocks(notebook: Path | None, tmp_path, monkeypatch):
    """Fenced blocks in a notebook's markdown cells run like the README's, cell after cell, one namespace."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(PROFILE_VARIABLE, TEST_PROFILE)
    namespace = {"__name__": "__main__"}
    for document in markdown_cell_documents(notebook):
        document.namespace = namespace
        for example in document.examples():
            try:
                example.evaluate()
            except unittest.SkipTest:
                continue
