"""smasim installs as one import package, ``smasim``, and lives beside generic top-level names.

The repository root is the package (``package-dir``), so a wrong packaging setup would put
``models``, ``cli`` and friends at the top of site-packages, clashing with any other distribution
that has them. The wheel is built offline, by calling the PEP 517 backend of ``pyproject.toml``
in the running environment (no build isolation, so its build requirements must be installed),
from a copy of the tree: no ``build/`` or ``*.egg-info`` is left in the repository, and none left
there earlier can leak into the wheel.
"""

from __future__ import annotations

import configparser
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import smasim

ROOT = Path(__file__).resolve().parents[1]
NOT_PACKAGE = {"tests", "benchmarks"}
# left out of the copy that is built: at the top, what the wheel never holds; anywhere, caches
TOP_SKIP = {*NOT_PACKAGE, "build", "dist", "runs", "venv"}

DUMMY = {
    "pyproject.toml": """\
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "dummy"
version = "1.0"

[tool.setuptools]
py-modules = ["cli"]
packages = ["models"]
""",
    "models/__init__.py": 'MARK = "dummy"\n',
    "cli.py": 'def main():\n    print("dummy cli")\n',
}

PROBE = """\
import contextlib, io, json
import cli, models
import smasim, smasim.models.agents
out = io.StringIO()
with contextlib.redirect_stdout(out):
    cli.main()
print(json.dumps({
    "mark": models.MARK,
    "cli_says": out.getvalue().strip(),
    "version": smasim.__version__,
    "files": [m.__file__ for m in (models, cli, smasim, smasim.models.agents)],
}))
"""


def _missing_build_requirements() -> list[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    missing = []
    for text in pyproject["build-system"]["requires"]:
        req = Requirement(text)
        try:
            found = importlib.metadata.version(req.name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(f"{text} (not installed)")
            continue
        if not req.specifier.contains(found, prereleases=True):
            missing.append(f"{text} (found {found})")
    return missing


def _skip_copied(folder: str, names: list[str]) -> set[str]:
    top = Path(folder) == ROOT
    return {
        n
        for n in names
        if n.startswith(".")
        or n == "__pycache__"
        or n.endswith(".egg-info")
        or (top and n in TOP_SKIP)
    }


def _run(args: list[str | Path], *, env: dict[str, str] | None = None, cwd: Path | None = None):
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300
    )
    assert done.returncode == 0, (
        f"{' '.join(map(str, args))} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    )
    return done


def _package_modules(root: Path) -> set[str]:
    """Source paths, relative to ``root``, of every module of the package."""
    files = set(root.glob("*.py"))
    for sub in root.iterdir():
        if sub.name not in NOT_PACKAGE and (sub / "__init__.py").is_file():
            files |= {p for p in sub.rglob("*.py") if "__pycache__" not in p.parts}
    return {p.relative_to(root).as_posix() for p in files}


def _build_wheel(src: Path, out: Path) -> Path:
    """Build ``src``'s wheel into ``out`` by calling its PEP 517 backend here, offline."""
    backend = tomllib.loads((src / "pyproject.toml").read_text(encoding="utf-8"))
    out.mkdir(parents=True)
    call = "import importlib, sys; importlib.import_module(sys.argv[1]).build_wheel(sys.argv[2])"
    _run([sys.executable, "-c", call, backend["build-system"]["build-backend"], out], cwd=src)
    (wheel,) = out.glob("*.whl")
    return wheel


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """smasim's wheel, and the copy of the source tree it was built from."""
    missing = _missing_build_requirements()
    if missing:
        pytest.skip(
            "cannot build offline (no build isolation): missing build requirements "
            + ", ".join(missing)
        )
    base = tmp_path_factory.mktemp("smasim")
    src = base / "src"
    shutil.copytree(ROOT, src, ignore=_skip_copied)
    return {"wheel": _build_wheel(src, base / "out"), "src": src}


@pytest.fixture(scope="module")
def dummy_wheel(tmp_path_factory) -> Path:
    """The wheel of a distribution owning the top-level names ``models`` and ``cli``."""
    base = tmp_path_factory.mktemp("dummy")
    for name, text in DUMMY.items():
        (base / "src" / name).parent.mkdir(parents=True, exist_ok=True)
        (base / "src" / name).write_text(text, encoding="utf-8")
    return _build_wheel(base / "src", base / "out")


def test_wheel_holds_one_import_package(built):
    """The wheel puts only ``smasim`` in site-packages, with its data, configs and entry point."""
    with zipfile.ZipFile(built["wheel"]) as whl:
        names = set(whl.namelist())
        dist_info = f"smasim-{smasim.__version__}.dist-info"
        entry_points = configparser.ConfigParser()
        entry_points.read_string(whl.read(f"{dist_info}/entry_points.txt").decode())
    src = built["src"]

    assert {n.split("/")[0] for n in names} == {"smasim", dist_info}
    assert entry_points["console_scripts"]["smasim"] == "smasim.cli:main"

    modules = {n.removeprefix("smasim/") for n in names if n.endswith(".py")}
    in_tree = _package_modules(src)
    assert modules == in_tree, (
        f"modules missing from the wheel (are their packages in pyproject's "
        f"[tool.setuptools] packages?): {sorted(in_tree - modules)}; "
        f"in the wheel only: {sorted(modules - in_tree)}"
    )
    for pattern in ("data/*.csv", "experiments/config/bundled/*.toml"):
        expected = {f"smasim/{p.relative_to(src).as_posix()}" for p in src.glob(pattern)}
        assert expected, f"no {pattern} in the source tree"
        carried = {n for n in names if Path(n).match(f"smasim/{pattern}")}
        assert carried == expected, f"smasim/{pattern}"


@pytest.mark.slow
@pytest.mark.parametrize("order", [("smasim", "dummy"), ("dummy", "smasim")], ids="-then-".join)
def test_installs_beside_generic_top_level_names(built, dummy_wheel, order, tmp_path):
    """Installed with a distribution owning ``models`` and ``cli``, in either order, both work."""
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME"}}
    env |= {"PYTHONNOUSERSITE": "1", "VIRTUAL_ENV": str(venv)}
    wheels = {"smasim": built["wheel"], "dummy": dummy_wheel}
    for name in order:
        _run(
            [
                *(sys.executable, "-m", "pip", "--python", python, "install", "-q"),
                *("--no-index", "--no-deps", wheels[name]),
            ],
            env=env,
        )
    ask = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = Path(_run([python, "-c", ask], env=env).stdout.strip())
    # smasim's dependencies come from the running environment, added only after pip is done so
    # that pip never sees the editable smasim installed there
    deps = dict.fromkeys(sysconfig.get_path(k) for k in ("purelib", "platlib"))
    (site / "deps.pth").write_text("\n".join(deps) + "\n", encoding="utf-8")
    here = tmp_path / "cwd"  # an empty working directory: nothing importable by accident
    here.mkdir()

    probe = json.loads(_run([python, "-c", PROBE], env=env, cwd=here).stdout)
    assert probe["mark"] == "dummy"
    assert probe["cli_says"] == "dummy cli"
    assert probe["version"] == smasim.__version__
    assert all(Path(f).is_relative_to(site) for f in probe["files"]), probe["files"]

    assert "configs" in _run([python, "-m", "smasim", "--help"], env=env, cwd=here).stdout
    listed = json.loads(
        _run([venv / "bin" / "smasim", "configs", "--json"], env=env, cwd=here).stdout
    )
    bundled = built["src"] / "experiments" / "config" / "bundled"
    assert set(listed) == {p.stem for p in bundled.glob("*.toml")}
