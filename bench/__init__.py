"""Benchmarks that measure firstseen against real edits and against its peers.

``python -m bench.accuracy`` builds (and caches under ``.bench-cache/``) a corpus
of source clips, edited copies and negatives, runs firstseen, vPDQ and videohash
on the same files and writes ``docs/results/accuracy.json``, the table in
``docs/benchmarks.md`` and ``docs/img/accuracy.png``.
"""

from __future__ import annotations

__all__: list[str] = []
