"""What every command shares: consoles, the one-line failure, progress bars and the command's resources.

A command's resources (settings, pipeline, archive, key store) live in the click context
(``Resources``), opened on first use and closed when the command ends, so a command that only reads
rows never imports the pipeline (``tests/test_cli.py`` checks that).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer

from service.errors import BadInput, FirstseenError, NotFound

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy.engine import Engine

    from service.archive.access import Archive
    from service.auth import KeyStore
    from service.models import ArchiveItem
    from service.pipeline import Pipeline
    from service.settings import Settings

__all__ = ["Resources", "err", "fail", "out", "plain", "print_item", "print_json", "progress_bar", "published",
           "resources", "run"]

T = TypeVar("T")


class _LazyConsole:
    """A rich ``Console`` made on first use: importing rich is time ``--help`` does not need."""

    def __init__(self, stderr: bool = False) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    @property
    def rich_console(self) -> Console:
        """The console itself, for rich classes that take one (``Progress``)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr)
        return self._console

    def print(self, *objects: Any, **kwargs: Any) -> None:
        self.rich_console.print(*objects, **kwargs)


out = _LazyConsole()
err = _LazyConsole(stderr=True)

# Control characters (ESC starts terminal commands), except newline and tab.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain(value: object) -> str:
    """Text from users and pages for rich: no markup (``[/]`` would crash it), no terminal escapes."""
    from rich.markup import escape

    return escape(_CONTROL.sub("\ufffd", str(value)))


def fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[bold red]error:[/] {plain(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def run(fn: Callable[[], T]) -> T:
    """Domain errors become one line and an exit code; nothing else is caught."""
    try:
        return fn()
    except (BadInput, NotFound) as exc:
        fail(str(exc), 2)
    except FirstseenError as exc:
        fail(str(exc), 1)


class Resources:
    """A command's settings, pipeline and stores: opened on first use, closed when the command ends."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._pipeline: Pipeline | None = None
        self._engine: Engine | None = None

    def settings(self) -> Settings:
        if self._settings is None:
            from service.settings import Settings

            self._settings = Settings()
            self._settings.ensure_dirs()
        return self._settings

    def pipeline(self) -> Pipeline:
        if self._pipeline is None:
            from service.pipeline import Pipeline

            self._pipeline = Pipeline.from_settings(self.settings())
        return self._pipeline

    def engine(self) -> Engine:
        """The archive database alone (the pipeline's when one is open)."""
        if self._pipeline is not None:
            return self._pipeline.engine
        if self._engine is None:
            from service.db.engine import open_database

            self._engine = open_database(self.settings().resolved_database_url)
        return self._engine

    def archive(self) -> Archive:
        """The archive's rows alone (``archive/access.py``), for commands that only read or edit them.

        No ``Pipeline``: importing it imports every stage (yt-dlp, PyAV, OpenCV, the index), about a
        second that ``archive list`` never uses. The pipeline's own when one is open.
        """
        if self._pipeline is not None:
            return self._pipeline.archive
        from service.archive.access import Archive

        return Archive.open(self.engine())

    def keys(self) -> KeyStore:
        from service.auth import KeyStore

        return KeyStore(self.engine())

    def close(self) -> None:
        if self._pipeline is not None:
            self._pipeline.close()
            self._pipeline = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def resources(ctx: typer.Context) -> Resources:
    """The command's resources, made by the root callback (``service.cli``)."""
    found = ctx.find_object(Resources)
    if found is None:  # a command group invoked on its own, as tests may
        found = ctx.ensure_object(Resources)
        ctx.call_on_close(found.close)
    return found


@contextmanager
def progress_bar(enabled: bool, label: str) -> Iterator[Callable[[float, str], None]]:
    """A transient bar on stderr fed by the pipeline's ``(fraction, stage)`` callback."""
    if not enabled:
        yield lambda _f, _s: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), console=err.rich_console, transient=True) as bar:
        task = bar.add_task(label, total=1.0)
        yield lambda f, stage: bar.update(task, completed=f, description=f"{label}: {stage}")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def print_item(item: ArchiveItem) -> None:
    from rich.table import Table

    table = Table(show_header=False, box=None)
    for key, value in item.to_dict().items():
        if value not in (None, ""):
            table.add_row(f"[bold]{key}[/]", plain(value))
    out.print(table)


def published(item: ArchiveItem, unknown: str = "?") -> str:
    """An archived date for a table; one only a web page claims says so (service/dates.py)."""
    from service.dates import TRUSTED_DATE_ORIGINS

    if not item.published:
        return unknown
    claimed = item.date_origin not in TRUSTED_DATE_ORIGINS
    return plain(item.published) + (" (page claim)" if claimed else "")
