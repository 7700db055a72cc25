"""HTTP front end: the newsroom API (``/api/v1``) and, mounted on the same app, the web form.

``create_app(settings)`` builds everything once (pipeline, job store, keys, queue) and
hands it to routes through ``deps``; nothing is built at import time.
"""

from __future__ import annotations

from service.api.app import create_app

__all__ = ["create_app"]
