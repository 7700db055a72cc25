"""Benchmark results in docs/benchmarks.md: each benchmark owns one marked block and replaces only it."""

from __future__ import annotations

from pathlib import Path

__all__ = ["replace_block"]


def replace_block(path: Path, block: str, begin_prefix: str, end: str) -> None:
    """Put ``block`` (which starts with a line beginning ``begin_prefix`` and ends with ``end``) where the
    previous such block stands in ``path``, or append it; nothing else in the file changes."""
    text = path.read_text() if path.is_file() else "# Benchmarks\n"
    start = text.find(begin_prefix)
    stop = text.find(end, start) if start >= 0 else -1
    if start >= 0 and stop >= 0:
        text = text[:start] + block + text[stop + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text)
