"""Command line front end: ``firstseen check``, ``firstseen archive …``.

A thin layer over ``service.pipeline``, one module per command group: parse arguments, build
``Settings`` once (``common.Resources`` in the click context), show rich progress, print text or
JSON, and turn ``BadInput`` into exit code 2 with one line on stderr (never a traceback).

Only typer is imported up front: each command imports what it needs when it runs (settings, models,
rich, numpy), so ``--help`` and small commands start at once (``python -m bench.startup`` measures
it). Help is plain click text for the same reason.

The commands, registered here and nowhere else:

    check, report          check.py     a verdict; a finished check's report, PDF, evidence pack
    archive …              archive.py   add, import, export, list, show, remove, audit
    footage show           footage.py   every known upload of a piece of footage
    sources …, crawl, watch  sources.py the channels and feeds the archive grows from
    prune                  upkeep.py    retention
    keys …                 keys.py      API keys
    serve, worker          server.py    the HTTP API and web form; Redis workers
    bench index            bench.py     the index at scale
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from service.cli import archive, bench, check, footage, keys, server, sources, upkeep
from service.cli.common import Resources

__all__ = ["app", "main"]

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="firstseen: has this footage been online before?")
app.command()(check.check)
app.add_typer(archive.app, name="archive")
app.add_typer(footage.app, name="footage")
app.add_typer(sources.app, name="sources")
app.command()(sources.crawl)
app.command()(sources.watch)
app.command()(upkeep.prune)
app.command()(check.report)
app.add_typer(bench.app, name="bench")
app.add_typer(keys.app, name="keys")
app.command()(server.serve)
app.command()(server.worker)


@app.callback()
def _setup(ctx: typer.Context,
           verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False) -> None:
    import logging

    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("PIL").setLevel(logging.WARNING)
    resources = ctx.ensure_object(Resources)
    ctx.call_on_close(resources.close)


def main() -> None:
    app()
