"""The documentation site: its page list, its generated references and its strict build.

Fast (no MkDocs needed): ``mkdocs.yml`` lists exactly the pages under ``docs/``; the pages'
and the README's relative links lead to files that exist; the CLI reference covers every
command of the app and the config reference every table, key and parameter the schema and the
registry know; the README says how to build the site. Slow: ``mkdocs build --strict`` (the
tutorial's commands run, every warning fails), skipped where the ``docs`` extra is missing.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from smasim import cli
from smasim.experiments.config import schema
from smasim.models.parameters import PARAMETERS

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
if not (ROOT / "mkdocs.yml").is_file():
    pytest.skip("not a checkout: no mkdocs.yml", allow_module_level=True)


def load_docgen():
    spec = importlib.util.spec_from_file_location("docgen", DOCS / "docgen.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


docgen = load_docgen()


def nav_pages() -> list[str]:
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = text[text.index("\nnav:") : text.index("\n\n", text.index("\nnav:"))]
    return re.findall(r":\s*([\w./-]+\.md)\s*$", nav, re.M)


def test_mkdocs_yml_lists_every_page_once_and_only_pages_that_exist():
    pages = nav_pages()
    assert len(pages) == len(set(pages))
    assert set(pages) == {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}


def test_every_figure_under_docs_is_shown_by_a_page():
    text = "".join(p.read_text(encoding="utf-8") for p in DOCS.glob("*.md"))
    for png in DOCS.glob("*.png"):
        assert f"]({png.name})" in text, png.name


@pytest.mark.parametrize("page", [ROOT / "README.md", *sorted(DOCS.glob("*.md"))], ids=str)
def test_relative_links_lead_to_files_that_exist(page):
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
        if not re.match(r"[a-z]+:", target):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


def test_the_cli_reference_covers_every_command():
    reference = docgen.cli_reference()
    names = {c.__name__.replace("_", "-") for c in cli._COMMANDS}
    assert names == set(docgen.cli_commands())
    for name in names:
        assert f"## smasim {name}\n" in reference
        assert f"Usage: smasim {name} " in reference
    assert "docgen import cli_reference" in (DOCS / "cli.md").read_text(encoding="utf-8")


def config_models(model: type[BaseModel] = schema.Config) -> set[type[BaseModel]]:
    """Every table model reachable from the schema's ``Config`` (nested arrays of tables too)."""
    found = set()

    def visit(annotation):
        is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        if is_model and annotation is not schema.Config and annotation not in found:
            found.add(annotation)
            for field in annotation.model_fields.values():
                visit(field.annotation)
        for arg in typing.get_args(annotation):
            visit(arg)

    for field in model.model_fields.values():
        visit(field.annotation)
    return found - {schema.DistributionSpec, schema.ChoiceSpec}


def test_the_config_reference_covers_every_table_key_and_parameter():
    assert config_models() == set(docgen.SECTIONS.values())
    assert set(schema.Config.model_fields) - {"parameters"} <= set(docgen.SECTIONS)
    reference = docgen.config_reference()
    for table, keys in docgen.config_fields().items():
        header = f"[[{table}]]" if "." in table else f"[{table}]"
        assert f"### `{header}`" in reference
        section = reference.split(f"### `{header}`")[1].split("###")[0]
        for key in keys:
            assert f"| `{key}` |" in section, f"{table}.{key}"
    parameters = reference.split("### `[parameters]`")[1]
    for name in PARAMETERS:
        assert parameters.count(f"| `{name}` |") == 1, name
    assert "docgen import config_reference" in (DOCS / "config.md").read_text(encoding="utf-8")


def test_the_readme_says_how_to_build_the_docs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    development = readme[readme.index("## Development") :]
    assert 'python -m pip install -e ".[docs]" && python -m mkdocs build --strict' in development
    assert "mkdocs serve" in development


@pytest.mark.slow
def test_the_site_builds_in_strict_mode(tmp_path):
    if importlib.util.find_spec("mkdocs") is None:
        pytest.skip('the docs extra is not installed: python -m pip install -e ".[docs]"')
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    for page in ("tutorial", "cli", "config", "api"):
        assert (tmp_path / page / "index.html").is_file()
    assert "smasim discover" in (tmp_path / "tutorial" / "index.html").read_text(encoding="utf-8")
