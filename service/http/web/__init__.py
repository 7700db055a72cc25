"""The fact-checker's web form, served by the same app as the API (see ``routes.install_web``)."""

from __future__ import annotations

__all__: list[str] = []
