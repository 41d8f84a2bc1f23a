"""What the commands share: option types, input checks, consoles and progress displays.

Checks here are those only the command line can make (a flag's range before a config is
read, an executor before a result folder is started); everything else is left to the library,
whose errors name the field (``out: ...``) and are mapped to flags by :func:`smasim.cli.main`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from smasim.experiments.config.constants import DEFAULT_CONFIG, MAX_DRAWS


def printable(text: str) -> str:
    """``text`` with every control character but line breaks and tabs escaped (``\\x1b``).

    Paths and names typed on the command line are echoed back ("results in OUT"); escaped,
    a terminal escape sequence in them (OSC 52 clipboard writes, title changes) prints as
    text instead of acting.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c in "\n\t" else repr(c)[1:-1] for c in text)


class SafeConsole(Console):
    """A rich console whose string arguments reach the terminal through :func:`printable`."""

    def print(self, *objects, **kwargs) -> None:
        """As :meth:`rich.console.Console.print`, with control characters escaped."""
        super().print(*(printable(o) if isinstance(o, str) else o for o in objects), **kwargs)


out_console = SafeConsole(highlight=False)
err_console = SafeConsole(stderr=True, highlight=False)


def print_markdown(text: str) -> None:
    """Print a Markdown report: rendered where its tables fit the terminal, else as written.

    A rendered table narrower than its content cuts numbers ("1,36..."); the Markdown source
    never cuts anything (the terminal wraps its long lines), and stays a valid table.
    """
    widest = max((len(line) for line in text.splitlines() if line.startswith("|")), default=0)
    if widest <= out_console.width:
        from rich.markdown import Markdown

        out_console.print(Markdown(text))
    else:
        out_console.print(text, markup=False, highlight=False, soft_wrap=True)


ConfigArg = Annotated[
    str | None,
    typer.Argument(help=f"Config TOML path or bundled name (default: {DEFAULT_CONFIG})."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of tables.")]
ExecutorOpt = Annotated[str, typer.Option(help="Where batches run: local or dask.")]
SchedulerOpt = Annotated[str | None, typer.Option(help="Dask scheduler address (tcp://host:port).")]
WorkersOpt = Annotated[int, typer.Option(help="Worker processes; results do not depend on it.")]
SeedOpt = Annotated[int | None, typer.Option(help="Root seed (default: config's).")]
EachSeedOpt = Annotated[
    int | None, typer.Option(help="One seed for every config (default: each config's).")
]


class BadInput(Exception):
    """A one-line input error (exit code 2); the message starts with the flag."""


# the command line's arguments (set by cli.main), from which a stopped run's message builds
# the command that continues it
ARGV: list[str] = []


class StoppedRun(Exception):
    """A run stopped (Ctrl-C, a full disk) with its finished batches kept.

    Its message is the line to print, saying how to go on; ``code`` the exit code. Not a
    KeyboardInterrupt: Typer turns those into exit code 130 without a word.
    """

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def check_positive(flag: str, value: int | None) -> None:
    """Refuse a count below 1 (None is the default and passes)."""
    if value is not None and value < 1:
        raise BadInput(f"{flag}: must be a positive integer, got {value}")


BYTES_PER_DRAW_IN_MEMORY = 96  # the summary's columns an in-memory run keeps (87 B) and slack


# what the record's commands hold a draw, measured as the growth of peak memory between two
# draw counts: backtest 3.4 kB (153 MB more at 50,000 draws than at 5,000: seven negotiations'
# columns), calibrate 0.53 kB (21 MB more at 60,000 than at 20,000), plus slack
BACKTEST_BYTES_PER_DRAW = 3_600
CALIBRATE_BYTES_PER_DRAW = 600


def check_draws(
    value: int | None, *, streamed: bool = False, bytes_per_draw: int = BYTES_PER_DRAW_IN_MEMORY
) -> None:
    """Refuse a ``--draws`` below 1, above :data:`MAX_DRAWS`, or beyond this machine's memory.

    A run held in memory (``compare``, ``backtest``, ``calibrate``) keeps ``bytes_per_draw``
    of every draw: refused where that would take more than half the physical memory. A
    ``streamed`` run (``smasim run``) holds no per-draw column, whatever its draw count.
    """
    check_positive("--draws", value)
    if value is not None and value > MAX_DRAWS:
        raise BadInput(f"--draws: at most {MAX_DRAWS:,} (a run's columns live in memory)")
    from smasim.simulation.memory import memory_budget

    budget = memory_budget()
    if not streamed and value and budget and value * bytes_per_draw > budget:
        raise BadInput(
            f"--draws: {value:,} draws keep ~{value * bytes_per_draw / 1e9:,.0f} GB in "
            f"memory; half this machine's memory is {budget / 1e9:,.0f} GB"
        )


def check_seed(seed: int | None) -> None:
    """Refuse a negative ``--seed``."""
    if seed is not None and seed < 0:
        raise BadInput(f"--seed: must be a non-negative integer, got {seed}")


def check_executor(executor: str, scheduler: str | None) -> None:
    """Refuse an unknown executor, or Dask without a scheduler address."""
    # checked here, before a result folder is started, rather than when the first batch is sent
    if executor not in ("local", "dask"):
        raise BadInput(f"--executor: must be local or dask, got {executor!r}")
    if executor == "dask" and not scheduler:
        raise BadInput(
            "--scheduler: --executor dask needs the scheduler's address (tcp://host:port)"
        )


class LateProgress:
    """A progress bar whose total is known only once the work has looked at its inputs.

    ``start(total)`` shows the bar (draws, with an ETA), ``advance(n)`` moves it; silent
    for --json or when stderr is not a terminal. Used as a context manager, the bar is
    removed however the work ends.
    """

    def __init__(self, label: str, *, quiet: bool, unit: str = "draws") -> None:
        self.label, self.unit = label, unit
        self.quiet = quiet or not err_console.is_terminal
        self._bar, self._task = None, None

    def start(self, total: int) -> None:
        """Show the bar over ``total`` draws, or add them to a bar already shown."""
        if self.quiet or total <= 0:
            return
        if self._bar is not None:
            self._bar.update(self._task, total=self._bar.tasks[0].total + total)
            return
        self._bar = Progress(
            TextColumn(self.label), BarColumn(), MofNCompleteColumn(), TextColumn(self.unit),
            TimeRemainingColumn(), console=err_console, transient=True,
        )  # fmt: skip
        self._bar.start()
        self._task = self._bar.add_task(self.label, total=total)

    def advance(self, n: int) -> None:
        """``n`` more draws done."""
        if self._bar is not None:
            self._bar.advance(self._task, n)

    def stop(self) -> None:
        """Remove the bar (it is transient)."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> LateProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def draw_progress(total: int, *, quiet: bool) -> Iterator[Callable[[int], None] | None]:
    """A progress bar over ``total`` draws on stderr; yields its ``advance(n)``, or None.

    Silent (yields None) for --json or when stderr is not a terminal.
    """
    if quiet or not err_console.is_terminal:
        yield None
        return
    with LateProgress("simulating", quiet=False) as bar:
        bar.start(total)
        yield bar.advance
