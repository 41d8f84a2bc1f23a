"""The ``smasim`` command line: the Typer app and its error handling.

The commands live in :mod:`smasim.commands`; each takes a config (a TOML path or a bundled
name; the default config when omitted), makes one library call and prints the result. Bad
input ends with one line on stderr naming the flag, and exit code 2.

Library errors name the argument they refuse (``out: runs/x already exists ...``);
:func:`main` names the command's flag instead (``--out: ...``).
"""

from __future__ import annotations

import errno
import os
import re
import signal
import sys
from typing import Annotated

import typer
import typer.main

from smasim import __version__
from smasim.commands import compare, discover, options, record, run, sensitivity
from smasim.commands.options import BadInput, StoppedRun, err_console
from smasim.experiments.config.constants import ConfigError
from smasim.experiments.runs.folders import DISK_ERRORS, StoreError
from smasim.simulation.executors import BatchFailed
from smasim.simulation.memory import keep_freed_memory

app = typer.Typer(
    add_completion=True,  # smasim --install-completion: bash, zsh, fish, PowerShell
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Simulate the Korea-U.S. SMA negotiations: who pays what for USFK from 2026 on.",
    no_args_is_help=True,
)
_COMMANDS = (
    run.run,
    run.solve,
    run.trace,
    run.validate,
    run.configs,
    run.init,
    compare.compare,
    compare.plot,
    sensitivity.sensitivity,
    sensitivity.sweep,
    discover.discover,
    record.history,
    record.backtest,
    record.calibrate,
)
for _command in _COMMANDS:
    app.command()(_command)


def _print_version(value: bool) -> None:
    if value:
        print(f"smasim {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """Simulate the Korea-U.S. SMA negotiations: who pays what for USFK from 2026 on."""


# A library error that starts with a field name (``n: ...``, ``axes[1]: ...``)
_FIELD = re.compile(r"([a-z_][a-z0-9_]*(?:\[\d+\])?): ")
# library fields whose option is named otherwise: field -> the command's parameter name
_OPTION_OF_FIELD = {
    "thresholds_bn_krw": "threshold",
    "axes": "param",
    "axes[0]": "param",
    "axes[1]": "param2",
    "leave_one_out": "loo",
}
_PATH_ERRORS = {errno.ENAMETOOLONG, errno.EACCES, errno.EROFS, errno.ENOTDIR}


def _one_line(text: str) -> str:
    """``text`` on one printable line, whatever a library's message holds.

    Line breaks become spaces; other unprintable characters (which ``str.splitlines`` also
    treats as line breaks, e.g. ``\\x1e``) are escaped as in a Python string.
    """
    text = " ".join(text.splitlines())
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _flag_named(message: str, args: list[str]) -> str:
    """``message`` with its leading field replaced by the flag that sets it, if any.

    The field is mapped when the command in ``args`` has an option of that name (or of the
    name :data:`_OPTION_OF_FIELD` gives it), and the field is not one of the command's
    positional values: ``smasim plot out`` reporting on the folder ``out`` says ``out:``.
    """
    match = _FIELD.match(message)
    if match is None or not args:
        return message
    # app may already be its Click group, built once (as the fuzz tests do for speed)
    group = app if hasattr(app, "commands") else typer.main.get_command(app)
    command = group.commands.get(args[0])
    if command is None:
        return message
    field = match[1]
    flags = {p.name: p.opts[0] for p in command.params if p.param_type_name == "option"}
    flag = flags.get(_OPTION_OF_FIELD.get(field, field))
    if flag is None:
        return message
    parsed = command.make_context(args[0], args[1:], resilient_parsing=True).params
    for p in command.params:
        value = parsed.get(p.name) if p.param_type_name == "argument" else None
        if field in map(str, value if isinstance(value, list | tuple) else [value]):
            return message
    return flag + message[len(field) :]


def _error(message: str) -> None:
    err_console.print(f"error: {_one_line(message)}", markup=False, soft_wrap=True)


def _terminate(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning every input error into one line and exit code 2."""
    args = sys.argv[1:] if argv is None else list(argv)
    signal.signal(signal.SIGTERM, _terminate)  # stop like Ctrl-C: finished batches are kept
    keep_freed_memory()  # this process is ours: see simulation.memory
    is_run = args[:1] == ["run"]  # only `run` keeps finished batches when it fails
    options.ARGV = args  # for the command a stopped run suggests to go on
    try:
        code = app(args=argv, standalone_mode=False)
    except ConfigError as exc:
        # config errors name a path in the config (``parameters.x:``), never a flag
        _error(str(exc))
        return 2
    except (StoreError, BadInput, ValueError) as exc:
        _error(_flag_named(str(exc), args))
        return 2
    except OSError as exc:
        if exc.errno in DISK_ERRORS:
            # not the input's fault: exit 1 (a run says what it kept, as a StoppedRun)
            _error(f"cannot write: {os.strerror(exc.errno)}")
            return 1
        # a path the user gave that cannot be created is bad input, not a crash
        if exc.errno not in _PATH_ERRORS:
            raise
        reason = exc.strerror or type(exc).__name__
        _error(f"--out: cannot create {exc.filename}: {reason}")
        return 2
    except BatchFailed as exc:
        # only `run` keeps its finished batches; compare, sensitivity and sweep start over
        hint = "; the finished batches are kept: rerun with --resume" if is_run else ""
        err_console.print(f"error: {exc}{hint}", markup=False, soft_wrap=True)
        return 1
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("interrupted: no result folder was written", markup=False)
        return 130
    except StoppedRun as exc:
        err_console.print(_one_line(str(exc)), markup=False, soft_wrap=True)
        return exc.code
    except typer.Exit as exc:
        return exc.exit_code
    except Exception as exc:
        # usage errors of Typer's command-line parser (Click's ClickException family)
        code = getattr(exc, "exit_code", None)
        if code is None or not hasattr(exc, "format_message"):
            raise
        ctx = getattr(exc, "ctx", None)
        where = f"{ctx.command_path}: " if ctx is not None else ""
        _error(f"{where}{exc.format_message()}")
        return code
    if code == 130:
        # Typer turns a command's Ctrl-C into a returned 130 (the branch above is for Ctrl-C
        # outside a command); compare, sensitivity, sweep write their folder only at the end
        err_console.print("interrupted: no result folder was written", markup=False)
    # Typer returns the code of a typer.Exit raised in a command when not standalone
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
