"""The newsroom API under ``/api/v1``: typed schemas (``schemas.py``), role-checked dependencies
(``deps.py``) and thin routes (``routes/``) over ``service.http.services``."""

from __future__ import annotations

__all__: list[str] = []  # nothing here: import the modules
