"""``firstseen bench …``: measure the archive index at scale."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from service.cli.common import err, fail

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="Measure speed and accuracy.")


@app.command("index")
def bench_index(
    frames: Annotated[int, typer.Option(help="Frame hashes in the synthetic archive.")] = 1_000_000,
    queries: Annotated[int, typer.Option(help="60-second queries to run.")] = 50,
    exact_queries: Annotated[int, typer.Option(help="Queries also run as an exact scan (slow).")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON result line.")] = False,
) -> None:
    """Latency and recall of the archive index at scale; the last line is JSON."""
    from dataclasses import asdict

    from rich.table import Table

    from service.benchmark import result_json, run_index_bench

    if frames < 10_000 or queries < 1:
        fail("use --frames ≥ 10000 and --queries ≥ 1")
    result = run_index_bench(frames, queries, min(exact_queries, queries),
                             log=(lambda _m: None) if as_json else (lambda m: err.print(m)))
    if not as_json:
        table = Table(title=f"index benchmark: {frames:,} frame hashes, {queries} queries")
        table.add_column("figure")
        table.add_column("value")
        for key, value in asdict(result).items():
            table.add_row(key, str(value))
        err.print(table)
    sys.stdout.write(result_json(result) + "\n")
