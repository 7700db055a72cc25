"""Admin: API keys and the audit log of archive changes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service.http.api.deps import AdminKey, ServicesDep
from service.http.api.routes._common import ERROR_RESPONSES, DbId, Offset
from service.http.api.schemas import AuditEntry, KeyCreate, KeyCreated, KeyOut

__all__ = ["router"]

router = APIRouter(tags=["admin"], responses=ERROR_RESPONSES)


@router.get("/keys", response_model=list[KeyOut], summary="Every API key (never the key itself)")
def list_keys(services: ServicesDep, _key: AdminKey) -> list[KeyOut]:
    return [KeyOut(**k.to_dict()) for k in services.keys.list()]


@router.post("/keys", status_code=201, response_model=KeyCreated, summary="Create a key; shown once")
def create_key(body: KeyCreate, services: ServicesDep, _key: AdminKey) -> KeyCreated:
    key, token = services.keys.create(body.role, body.name)
    return KeyCreated(**key.to_dict(), key=token)


@router.delete("/keys/{key_id}", response_model=KeyOut, summary="Revoke a key")
def revoke_key(key_id: DbId, services: ServicesDep, _key: AdminKey) -> KeyOut:
    return KeyOut(**services.keys.revoke(key_id).to_dict())


@router.get("/audit", response_model=list[AuditEntry],
            summary="Who changed the archive, when and what (newest first)")
def audit_log(services: ServicesDep, _key: AdminKey,
              limit: Annotated[int, Query(ge=1, le=1000)] = 100,
              offset: Offset = 0) -> list[AuditEntry]:
    entries = services.pipeline.archive.audit_log(limit=limit, offset=offset)
    return [AuditEntry.model_validate(e.to_dict()) for e in entries]
