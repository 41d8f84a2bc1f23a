"""The Python snippets of the README and the docs pages (``docs/*.md``) run as written.

Fast: every snippet compiles and its import lines run (a renamed module or function fails).
Slow: every snippet runs whole, in a fresh working folder (the snippets that read saved runs
create them first), each in its own process so that pool workers start cleanly.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# the README and the site's pages; the site's ```python exec="on"``` blocks (run by the docs
# build) do not match the bare ```python fence and are left to it
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def snippets() -> dict[str, str]:
    """The bare ```python blocks of the README and the docs pages, as ``page#n`` -> code."""
    found = {}
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for n, code in enumerate(re.findall(r"^```python\n(.*?)^```", text, re.M | re.S), 1):
            found[f"{page.relative_to(ROOT).as_posix()}#{n}"] = code
    return found


def test_the_readme_and_docs_have_python_snippets():
    assert len(snippets()) >= 4


def test_the_snippets_moved_out_of_the_readme_are_still_checked():
    # the README's "From Python" examples live on these pages now
    pages = {key.split("#")[0] for key in snippets()}
    moved = {"docs/index.md", "docs/comparing.md", "docs/sensitivity.md", "docs/backtest.md"}
    assert moved <= pages


@pytest.mark.parametrize("key", list(snippets()))
def test_each_snippet_compiles_and_its_imports_resolve(key):
    code = snippets()[key]
    tree = ast.parse(code)
    imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    assert imports, "a snippet should say where its names come from"
    exec(compile(ast.Module(body=imports, type_ignores=[]), key, "exec"), {})


@pytest.mark.slow
@pytest.mark.parametrize("key", list(snippets()))
def test_each_snippet_runs_as_written(key, tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", snippets()[key]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
