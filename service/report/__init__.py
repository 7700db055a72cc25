"""What a finished check shows beyond its verdict: the platform panel, the evidence pack and its export.

Renderers here read the stored report (``Report.to_dict()``) and return plain rows, pictures or files;
the web templates, the API and the CLI only present them.
"""

from __future__ import annotations

__all__: list[str] = []
