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
- **Order.** A block may continue the ones above it, and then begins with a comment
  ``# Continues ...`` saying which; each test first evaluates every earlier block not yet
  evaluated (``pytest -k`` on one block works); a block after a failed one is skipped, naming the
  failed block.
- **Self-contained blocks** (the Python blocks without that comment) also run alone, as a script,
  in a fresh process (:func:`test_self_contained_block_runs_as_a_script`): Dask's worker
  processes import such a script, which a block that runs the grid must allow for with
  ``if __name__ == "__main__":``.

Run time on the ``smoke`` profile: about 2-3 minutes on two CPU cores, most of it the smoke
classification grid of the first library block.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import traceback
import unittest
from pathlib import Path

import pytest
from sybil import Document, Example, Sybil
from sybil.example import SybilFailure
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


def failure_text(example: Example, error: Exception) -> str:
    """The traceback of a block's failure from the block's own frame on (sybil's and pytest's left out)."""
    if isinstance(error, SybilFailure):  # a shell block: its exit code and output
        return error.result
    frame = error.__traceback__
    while frame is not None and frame.tb_frame.f_code.co_filename != example.path:
        frame = frame.tb_next
    return "".join(traceback.format_exception(type(error), error, frame or error.__traceback__))


class ReadmeRun:
    """The README's examples, evaluated once each, in order, in the document's namespace."""

    def __init__(self, path: Path):
        self.document: Document = readme_sybil().parse(path)
        self.examples = list(self.document.examples())
        self.blocks = [i for i, example in enumerate(self.examples) if not is_directive(example)]
        self.skipped: dict[int, str] = {}  # example index -> reason
        self.failed: int | None = None  # the first example that failed
        self.done = 0  # examples[:done] are evaluated
        self.document.namespace["__name__"] = "__main__"

    def run_through(self, index: int) -> None:
        """Evaluate the examples up to ``index`` (skip directives included); report what ``index`` did.

        Raises what block ``index`` raised when it is evaluated now; a skip when it was skipped, or when an
        earlier block failed (a block may continue the ones above it).
        """
        while self.done <= index and self.failed is None:
            position, example = self.done, self.examples[self.done]
            self.done += 1
            failure = None
            try:
                example.evaluate()
            except unittest.SkipTest as skipped:
                self.skipped[position] = str(skipped)
            except Exception as error:
                self.failed = position
                failure = f"README line {example.line}: the block failed\n{failure_text(example, error)}"
            if failure is not None and position == index:
                pytest.fail(failure, pytrace=False)
        if self.failed == index:
            pytest.fail(f"README line {self.examples[index].line} failed (reported above)")
        if self.failed is not None and self.failed < index:
            pytest.skip(f"README line {self.examples[self.failed].line} failed, and this block may continue it")
        if index in self.skipped:
            pytest.skip(f"README line {self.examples[index].line}: {self.skipped[index]}")


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


#: The first line of a block that continues the blocks above it.
CONTINUES = re.compile(r"\s*# Continues ")
#: The Python blocks that say they are self-contained (they do not begin with "# Continues ...").
SELF_CONTAINED = [i for i in RUN.blocks if RUN.examples[i].region.lexemes.get("arguments") == "python"
                  and not CONTINUES.match(str(RUN.examples[i].parsed))]


@pytest.mark.parametrize("index", SELF_CONTAINED, ids=_block_id)
def test_self_contained_block_runs_as_a_script(index: int, scratch: Path):
    """A self-contained block runs alone, as a script, in a fresh process and a folder of its own.

    As a script, Dask's worker processes import it, which the ``__main__`` guard of a block that
    runs the grid must allow for. The folder shares the scratch folder's ``results/`` (a reader
    running the block again): the grid's runs are finished, so it only starts its workers and
    gathers what is there.
    """
    RUN.run_through(index)  # after the README's run of the block (skipped with it)
    example = RUN.examples[index]
    folder = scratch / f"script-line{example.line}"
    folder.mkdir()
    (scratch / "results").mkdir(exist_ok=True)
    (folder / "results").symlink_to(scratch / "results", target_is_directory=True)
    (folder / "readme_block.py").write_text(str(example.parsed))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(project_root()), os.environ.get("PYTHONPATH"))
                                                      if p))
    done = subprocess.run([sys.executable, "readme_block.py"], cwd=folder, env=env, text=True, capture_output=True,
                          timeout=SHELL_TIMEOUT)
    if done.returncode != 0:
        pytest.fail(f"README line {example.line}, run alone as a script, exited with code {done.returncode}; the "
                    f"end of its stderr:\n{done.stderr[-4000:]}", pytrace=False)


def test_every_fenced_block_is_collected():
    """Every fenced block of the README is one the tests evaluate or skip, none silently left out."""
    lexer = RawFencedCodeBlockLexer(info_pattern=re.compile(r"(?P<info>[^\n]*)$\n", re.MULTILINE))
    infos = [region.lexemes["info"].strip() for region in lexer(Document(README.read_text(), str(README)))]
    others = sorted({info for info in infos if info not in LANGUAGES})
    assert not others, (f"README.md has fenced blocks in {others}, which tests/test_readme.py does not run; write "
                        f"them as one of {LANGUAGES} or teach the test the language")
    assert len(RUN.blocks) == len(infos), f"{len(infos)} fenced blocks in README.md, {len(RUN.blocks)} collected"
    assert infos.count("python") >= 1


def test_runner_fails_a_broken_block_and_skips_what_follows(tmp_path, monkeypatch):
    """The runner itself: a failing block fails with its line and error, the blocks after it are skipped."""
    monkeypatch.chdir(tmp_path)
    text = ("# Doc\n\n```python\nx = 1\n```\n\n<!-- skip: next \"needs a GPU\" -->\n\n```bash\nexit 3\n```\n\n"
            "```bash\necho out; exit 4\n```\n\n```python\ny = x + z\n```\n\n```python\nassert x == 1\n```\n")
    (tmp_path / "doc.md").write_text(text)
    run = ReadmeRun(tmp_path / "doc.md")
    assert len(run.blocks) == 5
    first, gpu, shell, broken, after = run.blocks
    run.run_through(first)
    assert run.document.namespace["x"] == 1
    with pytest.raises(pytest.skip.Exception, match="line 9: needs a GPU"):
        run.run_through(gpu)
    with pytest.raises(pytest.fail.Exception, match=r"(?s)line 13: the block failed.*exited with code 4.*out"):
        run.run_through(shell)
    with pytest.raises(pytest.skip.Exception, match="README line 13 failed"):
        run.run_through(after)
    run = ReadmeRun(tmp_path / "doc.md")
    with pytest.raises(pytest.skip.Exception, match="README line 13 failed"):
        run.run_through(broken)  # the shell block before it fails first
    (tmp_path / "doc.md").write_text(text.replace("exit 4", "exit 0"))
    run = ReadmeRun(tmp_path / "doc.md")
    with pytest.raises(pytest.fail.Exception, match=r"(?s)line 17: the block failed.*doc.md.*NameError: name 'z'"):
        run.run_through(broken)
    with pytest.raises(pytest.skip.Exception, match="README line 17 failed"):
        run.run_through(after)


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
