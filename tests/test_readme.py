"""The README's Python snippets run as written.

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

README = Path(__file__).resolve().parents[1] / "README.md"


def snippets() -> list[str]:
    """The ```python blocks of the README, in order."""
    return re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), re.M | re.S)


def test_the_readme_has_python_snippets():
    assert len(snippets()) >= 4


@pytest.mark.parametrize("index", range(len(snippets())))
def test_each_snippet_compiles_and_its_imports_resolve(index):
    code = snippets()[index]
    tree = ast.parse(code)
    imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    assert imports, "a snippet should say where its names come from"
    exec(compile(ast.Module(body=imports, type_ignores=[]), "README", "exec"), {})


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(snippets())))
def test_each_snippet_runs_as_written(index, tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", snippets()[index]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
