"""A file chosen in the web form survives the form being shown again for a bad date.

Browsers never refill a file input, so a form re-shown because its claimed or published date was
refused would make the user choose (and send) the file again. Instead the upload the server already
saved (``home/uploads/k<key>-<id>/``) is kept and the re-shown form carries its folder name in a
hidden field and says "your file X is kept". Sending the form again without a new file uses it; a
newly chosen file wins and the kept one is removed. No script is involved, so it works without
JavaScript. The name is only honoured for the key that uploaded it and for a folder no job uses;
a kept file that is never sent again is an upload no job names, removed by retention after
``ORPHAN_UPLOAD_GRACE_S`` (service/retention.py), and it counts toward the key's upload quota meanwhile.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from service.auth import ApiKey
from service.errors import BadInput
from service.http.services import Services, discard_upload, read_date

__all__ = ["KEPT_FIELD", "date_refused", "kept_view", "take_kept"]

KEPT_FIELD = "kept_upload"
_FOLDER = re.compile(r"k(\d+)-[0-9a-f]{32}")


def _kept_file(services: Services, key: ApiKey, token: str | None) -> Path | None:
    found = _FOLDER.fullmatch(token or "")
    if found is None or found.group(1) != str(key.id):
        return None
    folder = services.uploads_dir / found.group(0)
    files = [p for p in folder.iterdir() if p.is_file()] if folder.is_dir() else []
    if len(files) != 1 or services.jobs.naming(folder.name):  # a job owns it: not the form's to give
        return None
    return files[0]


def take_kept(services: Services, key: ApiKey, fields: dict[str, str], upload: Path | None) -> Path | None:
    """The form's file: the one just sent, else the one kept from the form's last showing."""
    kept = _kept_file(services, key, fields.get(KEPT_FIELD))
    if upload is not None:
        discard_upload(kept)
        return upload
    return kept


def date_refused(fields: dict[str, str], names: tuple[str, ...]) -> str | None:
    """Why one of the form's date fields is refused (the same words as the API's), or None."""
    for name in names:
        try:
            read_date(fields.get(name), name)
        except BadInput as exc:
            return str(exc)
    return None


def kept_view(upload: Path | None) -> dict[str, Any] | None:
    """What the re-shown form says and carries about the kept file."""
    return None if upload is None else {"token": upload.parent.name, "name": upload.name}
