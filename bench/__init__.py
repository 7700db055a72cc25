"""Benchmarks that measure firstseen against real edits and against its peers.

``python -m bench.accuracy`` builds (and caches under ``.bench-cache/``) two corpora
of source clips, edited copies and negatives — generated scenes (``bench.corpus``)
and real camera footage (``bench.real``) — runs firstseen, vPDQ and (on the
generated one) videohash on the same files and writes ``docs/results/accuracy.json``
and ``accuracy-real.json``, their tables in ``docs/benchmarks.md`` and the charts
``docs/img/accuracy.png`` and ``accuracy-real.png``.
"""

from __future__ import annotations

__all__: list[str] = []
