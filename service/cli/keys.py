"""``firstseen keys …``: API keys for the HTTP API and the web form."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from service.cli.common import out, plain, print_json, resources, run

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="API keys for the HTTP API and the web form.")


@app.command("create")
def keys_create(
    ctx: typer.Context,
    role: Annotated[str, typer.Option(help="reader (checks, reads), editor (+ archive), admin (+ keys, audit).")],
    name: Annotated[str | None, typer.Option(help="Who the key is for (shown in the audit log).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create an API key; it is printed once and only its hash is stored."""
    key, token = run(lambda: resources(ctx).keys().create(role, name))
    if as_json:
        print_json({**key.to_dict(), "key": token})
    else:
        out.print(f"created {key.role} key [bold]{key.id}[/] ({plain(key.name)}); it is shown only now:",
                  highlight=False)
        sys.stdout.write(token + "\n")


@app.command("list")
def keys_list(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List API keys (never the keys themselves)."""
    from rich.table import Table

    keys = run(lambda: resources(ctx).keys().list())
    if as_json:
        print_json([k.to_dict() for k in keys])
        return
    table = Table()
    for col in ("id", "name", "role", "starts with", "created", "revoked"):
        table.add_column(col)
    for k in keys:
        table.add_row(str(k.id), plain(k.name), k.role, k.prefix + "…", k.created_at, k.revoked_at or "")
    out.print(table)


@app.command("revoke")
def keys_revoke(ctx: typer.Context, key_id: int) -> None:
    """Revoke an API key at once (web sessions made with it end too)."""
    key = run(lambda: resources(ctx).keys().revoke(key_id))
    out.print(f"revoked key {key.id} ({plain(key.name)})")
