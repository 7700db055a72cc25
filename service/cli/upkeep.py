"""``firstseen prune``: what retention lets go."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from service.cli.common import out, print_json, resources, run

if TYPE_CHECKING:
    from service.retention import PruneSummary

__all__ = ["prune"]


def prune(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Delete unremembered uploads and cached downloads older than the retention settings.

    FIRSTSEEN_KEEP_UNREMEMBERED_UPLOADS_S (default 0) and FIRSTSEEN_KEEP_DOWNLOAD_CACHE_S (default a day);
    `serve` and `worker` do this every FIRSTSEEN_PRUNE_EVERY_S. Archived media is never deleted.
    """
    from service.retention import prune as prune_now

    def pruned() -> PruneSummary:
        res = resources(ctx)
        return prune_now(res.settings(), res.engine())

    summary = run(pruned)
    if as_json:
        print_json(summary.to_dict())
    else:
        out.print(f"removed {summary.uploads} upload(s) and {summary.cache_entries} cached download(s), "
                  f"{summary.bytes_freed / 1e6:.1f} MB")
