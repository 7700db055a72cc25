"""API keys, roles and the per-key rate limit, shared by the HTTP API and the web form.

A key is ``fs_`` plus 32 random bytes (URL-safe base64). It is shown once, when
created; the database keeps only its sha256, so a leaked database leaks no keys.
Roles are ordered: a ``reader`` runs checks and reads; an ``editor`` also curates
the archive and crawl sources; an ``admin`` also manages keys and reads the audit log.

    keys = KeyStore(engine)
    key, token = keys.create("editor", name="desk")
    keys.authenticate(token)   # → ApiKey(id=1, role="editor", …) or None

The web form logs in with a key into a server-side session: ``open_session`` gives
a random token for the (signed) cookie and stores only its sha256, with the key and
an expiry. ``session_key`` is asked on every request, so a session ends for good at
logout (``close_session`` deletes it), when it expires, and when its key is revoked,
whatever copies of the cookie still exist.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import secrets
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from service.db.tables import api_keys, web_sessions
from service.errors import BadInput, NotFound

__all__ = ["ROLES", "ApiKey", "KeyStore", "RateLimiter", "Role", "hash_token", "role_at_least"]

Role = Literal["reader", "editor", "admin"]
ROLES: tuple[str, ...] = ("reader", "editor", "admin")
TOKEN_PREFIX = "fs_"
TOKEN_BYTES = 32

def _now(after_s: float = 0.0) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=after_s)).isoformat(timespec="seconds")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def role_at_least(role: str, needed: str) -> bool:
    return ROLES.index(role) >= ROLES.index(needed)


@dataclass(frozen=True)
class ApiKey:
    id: int
    name: str
    role: str
    prefix: str
    created_at: str
    revoked_at: str | None

    @property
    def actor(self) -> str:
        """How the audit log names changes made with this key."""
        return f"key {self.id} ({self.name})"

    def can(self, needed: str) -> bool:
        return self.revoked_at is None and role_at_least(self.role, needed)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _row_to_key(row: Any) -> ApiKey:
    m = row._mapping
    return ApiKey(id=m["id"], name=m["name"], role=m["role"], prefix=m["prefix"], created_at=m["created_at"],
                  revoked_at=m["revoked_at"])


class KeyStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, role: str, name: str | None = None) -> tuple[ApiKey, str]:
        """A new key and its token (the only time the token exists outside the caller)."""
        if role not in ROLES:
            raise BadInput(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
        token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
        with self.engine.begin() as c:
            key_id = c.execute(api_keys.insert().values(
                name=name or role, role=role, token_sha256=hash_token(token), prefix=token[:10],
                created_at=_now(),
            ).returning(api_keys.c.id)).scalar_one()
        return self.get(key_id), token

    def get(self, key_id: int) -> ApiKey:
        with self.engine.connect() as c:
            row = c.execute(api_keys.select().where(api_keys.c.id == key_id)).one_or_none()
        if row is None:
            raise NotFound(f"no key {key_id}")
        return _row_to_key(row)

    def list(self) -> list[ApiKey]:
        with self.engine.connect() as c:
            return [_row_to_key(r) for r in c.execute(api_keys.select().order_by(api_keys.c.id))]

    def revoke(self, key_id: int) -> ApiKey:
        with self.engine.begin() as c:
            n = c.execute(api_keys.update().where((api_keys.c.id == key_id) & api_keys.c.revoked_at.is_(None))
                          .values(revoked_at=_now())).rowcount
            c.execute(web_sessions.delete().where(web_sessions.c.key_id == key_id))
        key = self.get(key_id)
        if not n and key.revoked_at is None:  # pragma: no cover - raced with a delete
            raise NotFound(f"no key {key_id}")
        return key

    def authenticate(self, token: str) -> ApiKey | None:
        """The live key this token belongs to, or None."""
        if not token or len(token) > 200:
            return None
        digest = hash_token(token)
        with self.engine.connect() as c:
            row = c.execute(api_keys.select().where(api_keys.c.token_sha256 == digest)).one_or_none()
        if row is None or not hmac.compare_digest(row._mapping["token_sha256"], digest):
            return None
        key = _row_to_key(row)
        return key if key.revoked_at is None else None

    def active(self, key_id: int) -> ApiKey | None:
        """The key if it still exists and is not revoked."""
        try:
            key = self.get(key_id)
        except NotFound:
            return None
        return key if key.revoked_at is None else None

    # -- web sessions ---------------------------------------------------
    def open_session(self, key_id: int, max_age_s: float) -> str:
        """A new session for a key: the token for the cookie (the database keeps its sha256)."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        with self.engine.begin() as c:
            c.execute(web_sessions.delete().where(web_sessions.c.expires_at <= _now()))  # the expired ones
            c.execute(web_sessions.insert().values(id=hash_token(token), key_id=key_id, created_at=_now(),
                                                   expires_at=_now(max_age_s)))
        return token

    def session_key(self, token: str) -> ApiKey | None:
        """The live key of an open session; None once it was closed, has expired or its key was revoked."""
        if not token or len(token) > 200:
            return None
        stmt = (sa.select(api_keys).join(web_sessions, web_sessions.c.key_id == api_keys.c.id)
                .where((web_sessions.c.id == hash_token(token)) & (web_sessions.c.expires_at > _now())
                       & api_keys.c.revoked_at.is_(None)))
        with self.engine.connect() as c:
            row = c.execute(stmt).one_or_none()
        return None if row is None else _row_to_key(row)

    def close_session(self, token: str) -> None:
        with self.engine.begin() as c:
            c.execute(web_sessions.delete().where(web_sessions.c.id == hash_token(token)))


class RateLimiter:
    """A sliding one-minute window per key, in this process.

    ``hit`` records a request and returns None when it is allowed, else the
    seconds until the oldest request in the window leaves it (for Retry-After).
    """

    def __init__(self, per_minute: int, window_s: float = 60.0) -> None:
        self.per_minute = per_minute
        self.window_s = window_s
        self._hits: dict[object, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, who: object) -> int | None:
        if self.per_minute <= 0:
            return None
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(who, deque())
            while hits and now - hits[0] >= self.window_s:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return max(1, math.ceil(self.window_s - (now - hits[0])))
            hits.append(now)
            return None
