"""HTTP front end: the newsroom API (``/api/v1``, ``api/``) and the web form (``web/``) on one app.

``create_app(settings)`` (``app.py``) builds everything once (pipeline, job store, keys, queue) and
mounts both; what they share lives here beside it: ``services.py`` (the use cases behind a route or a
form: submit a check, archive an upload, quotas), ``errors.py`` (domain errors → JSON error bodies),
``uploads.py`` (streamed uploads with a hard size limit), ``retry.py``, ``headers.py`` (security
headers) and ``limits.py`` (the per-key rate limit, in Redis when configured). ``api`` and ``web`` never
import each other (the layers contract in pyproject.toml).
"""

from __future__ import annotations

from service.http.app import create_app

__all__ = ["create_app"]
