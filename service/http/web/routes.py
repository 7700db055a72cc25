"""The fact-checker's web form: log in with a key, paste a link or upload a file, read the verdict.

Server-rendered Jinja2 with a little JavaScript (progress polling, copy button);
every page works without it. The routes call the same submission helpers and
job layer as the API (``service.http.services``, ``service.jobs``), never the API
over HTTP. Login opens a server-side session (``KeyStore.open_session``) and puts
its token (never the key) in a signed cookie; logout closes it on the server, so a
saved copy of the cookie opens nothing. Every POST form carries a CSRF token tied
to the session.

Templates autoescape everything. Two filters cover what escaping alone does not:
``json_for_html`` for JSON inside ``<script>`` (ClaimReview) and ``http_link``,
which lets only http(s) addresses become ``href`` (``service.markup``).
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.middleware.sessions import SessionMiddleware

from service.auth import ApiKey
from service.dates import origin_words
from service.errors import FirstseenError, NotFound
from service.http.retry import retryable
from service.http.services import (
    Services,
    check_job_quota,
    discard_upload,
    secret_key,
    submit_archive_add,
    submit_check,
)
from service.http.uploads import form_bool, read_form
from service.http.web.evidence import pack_view
from service.http.web.kept_upload import date_refused, kept_view, take_kept
from service.jobs import Job
from service.markup import http_link, json_for_html
from service.match.verdict import VERDICT_WORDS
from service.models import ArchiveItem, ArchiveMetadata
from service.report.evidence import evidence_jpeg
from service.report.evidence_pack import query_length
from service.report.platform import platform_rows
from service.timeline import report_timeline_png

__all__ = ["install_web", "job_of_kind", "logged_in", "page", "posted_form", "report_view", "services_of"]

HERE = Path(__file__).parent
SESSION_MAX_AGE_S = 12 * 3600

templates = Jinja2Templates(env=jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, undefined=jinja2.StrictUndefined))


def _json_block(data: Any) -> Markup:
    """JSON for a ``<script type="application/ld+json">`` block or a ``<textarea>``.

    ``json_for_html`` leaves no ``<``, ``>`` or ``&`` in it, so nothing in it can close the element;
    HTML-escaping it as well would turn its quotes into entities, which a script block does not decode.
    """
    return Markup(json_for_html(data))


templates.env.filters["json_for_html"] = _json_block
templates.env.filters["http_link"] = http_link
templates.env.filters["origin_words"] = origin_words  # who says a date: editor, platform, source, page
templates.env.tests["retryable"] = retryable  # a failed job whose input is still there (service/http/retry.py)

router = APIRouter(include_in_schema=False)


class LoginRequired(Exception):
    """Raised by web dependencies: answered with a redirect to the login form."""


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(services_of)]


def _csrf(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def _key(request: Request, services: Services) -> ApiKey | None:
    token = request.session.get("sid")
    if not isinstance(token, str):
        return None
    return services.keys.session_key(token)


def logged_in(request: Request, services: ServicesDep) -> ApiKey:
    key = _key(request, services)
    if key is None:
        raise LoginRequired
    return key


WebKey = Annotated[ApiKey, Depends(logged_in)]


def page(request: Request, name: str, key: ApiKey | None, status: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"key": key, "csrf": _csrf(request), **context},
                                      status_code=status)


async def posted_form(request: Request, services: Services,
                       key: ApiKey | None = None) -> tuple[dict[str, str], Path | None]:
    """The form's fields and its file (saved only for a logged-in ``key``), once its CSRF token is checked."""
    fields, upload = await read_form(request, services, key)
    if not hmac.compare_digest(fields.get("csrf", ""), str(request.session.get("csrf", ""))):
        discard_upload(upload)
        raise PermissionError("the form expired or did not come from this site; reload the page and try again")
    return fields, upload


def _rate_limited(services: Services, key: ApiKey) -> str | None:
    retry = services.limiter.hit(key.id)
    return None if retry is None else f"too many requests with this key; try again in {retry} s"


# -- login -----------------------------------------------------------------
@router.get("/", response_class=HTMLResponse, name="web_home")
def home(request: Request, services: ServicesDep) -> HTMLResponse:
    key = _key(request, services)
    if key is None:
        return page(request, "login.html", None, error=None)
    recent = services.jobs.recent(kind="check", owner=key.actor, limit=10)
    return page(request, "index.html", key, error=None, recent=recent, form={})


@router.post("/login", name="web_login")
async def login(request: Request, services: ServicesDep) -> Response:
    try:
        fields, _ = await posted_form(request, services)
    except PermissionError as exc:
        return page(request, "login.html", None, status=403, error=str(exc))
    key = await run_in_threadpool(services.keys.authenticate, fields.get("key", "").strip())
    if key is None:
        return page(request, "login.html", None, status=401, error="That key is unknown or revoked.")
    request.session.clear()
    request.session["sid"] = await run_in_threadpool(services.keys.open_session, key.id, SESSION_MAX_AGE_S)
    request.session["csrf"] = secrets.token_urlsafe(32)  # a new session, a new token
    return RedirectResponse(request.url_for("web_home").path, status_code=303)


@router.post("/logout", name="web_logout")
async def logout(request: Request, services: ServicesDep) -> Response:
    try:
        await posted_form(request, services)
    except PermissionError as exc:
        return page(request, "login.html", None, status=403, error=str(exc))
    token = request.session.get("sid")
    if isinstance(token, str):
        await run_in_threadpool(services.keys.close_session, token)  # copies of the cookie die with it
    request.session.clear()
    return RedirectResponse(request.url_for("web_home").path, status_code=303)


# -- checks ----------------------------------------------------------------
@router.post("/check", name="web_submit_check")
async def submit(request: Request, services: ServicesDep, key: WebKey) -> Response:
    fields: dict[str, str] = {}
    try:
        await run_in_threadpool(check_job_quota, services, key)  # before a byte of an upload is stored
        fields, upload = await posted_form(request, services, key)
        upload = take_kept(services, key, fields, upload)  # service/http/web/kept_upload.py
        limited = _rate_limited(services, key)
        if limited:
            discard_upload(upload)
            return page(request, "index.html", key, status=429, error=limited, recent=[], form=fields)
        refused = date_refused(fields, ("claimed_date",)) if upload is not None else None
        if refused:  # the file stays on the server for the corrected form
            return page(request, "index.html", key, status=400, error=refused, recent=[], form=fields,
                         kept=kept_view(upload))
        url = fields.get("url", "").strip() or None
        if upload is not None and url:
            url = None  # a chosen file wins over a pasted link
        job, _ = await run_in_threadpool(
            lambda: submit_check(services, key, url=url, upload=upload, claimed_date=fields.get("claimed_date"),
                                 claimed_location=fields.get("claimed_location"),
                                 claimed_event=fields.get("claimed_event"),
                                 remember=form_bool(fields, "remember", False)))
    except PermissionError as exc:
        return page(request, "index.html", key, status=403, error=str(exc), recent=[], form=fields)
    except FirstseenError as exc:
        from service.http.errors import status_for

        return page(request, "index.html", key, status=status_for(exc), error=str(exc), recent=[], form=fields)
    return RedirectResponse(request.url_for("web_check", job_id=job.id).path, status_code=303)


def job_of_kind(services: Services, job_id: str, kind: str) -> Job:
    job = services.jobs.get(job_id)
    if job.kind != kind:
        raise NotFound(f"no {kind} {job_id}")
    return job


@router.get("/checks/{job_id}", response_class=HTMLResponse, name="web_check")
def check_page(request: Request, job_id: str, services: ServicesDep, key: WebKey) -> HTMLResponse:
    try:
        job = job_of_kind(services, job_id, "check")
    except NotFound:
        return page(request, "error.html", key, status=404, message="There is no such check.")
    if job.state != "done":
        return page(request, "progress.html", key, job=job, title="Checking the video",
                     status_url=request.url_for("web_job_status", job_id=job.id).path,
                     done_url=request.url_for("web_check", job_id=job.id).path)
    from service.http.web.publish import publish_view

    return page(request, "report.html", key, job=job, view=report_view(request, job),
                 publish=publish_view(request, services, job, key))


@router.get("/jobs/{job_id}", response_class=HTMLResponse, name="web_job")
def job_page(request: Request, job_id: str, services: ServicesDep, key: WebKey) -> Response:
    try:
        job = services.jobs.get(job_id)
    except NotFound:
        return page(request, "error.html", key, status=404, message="There is no such job.")
    if job.kind == "check":
        return RedirectResponse(request.url_for("web_check", job_id=job.id).path, status_code=303)
    done_url = request.url_for("web_archive").path
    if job.state == "done" and isinstance(job.result, ArchiveItem):
        return RedirectResponse(f"{done_url}?added={job.result.id}", status_code=303)
    return page(request, "progress.html", key, job=job, title="Adding to the archive",
                 status_url=request.url_for("web_job_status", job_id=job.id).path,
                 done_url=request.url_for("web_job", job_id=job.id).path)


@router.get("/jobs/{job_id}/status.json", name="web_job_status")
def job_status(job_id: str, services: ServicesDep, _key: WebKey) -> JSONResponse:
    job = services.jobs.get(job_id)
    return JSONResponse({"status": job.state, "progress": round(job.progress, 3), "stage": job.stage,
                         "error": job.error})


@router.get("/checks/{job_id}/evidence/{n}.jpg", name="web_evidence")
def evidence(job_id: str, n: int, services: ServicesDep, _key: WebKey) -> Response:
    job = job_of_kind(services, job_id, "check")
    return Response(evidence_jpeg(services.pipeline, job.report, n, job.id), media_type="image/jpeg",
                    headers={"Cache-Control": "private, max-age=86400"})


@router.get("/checks/{job_id}/timeline.png", name="web_timeline")
def timeline(job_id: str, services: ServicesDep, _key: WebKey) -> Response:
    job = job_of_kind(services, job_id, "check")
    return Response(report_timeline_png(job.report), media_type="image/png")


def _fmt_s(seconds: float) -> str:
    m, s = divmod(max(0.0, seconds), 60)
    return f"{int(m)}:{s:04.1f}"


def report_view(request: Request, job: Job) -> dict[str, Any]:
    """What the report template shows, in plain words and percentages, beside the typed ``Report``'s parts."""
    report = job.report
    durations = {i.id: i.duration for i in report.footage}
    query_len = query_length(report)
    matches, n = [], 0
    for m in report.matches:
        archive_len = durations.get(m.item.id) or max([s.archive_end for s in m.segments] or [1.0])
        segments = []
        for s in m.segments:
            segments.append({
                "n": n,
                "evidence_url": request.url_for("web_evidence", job_id=job.id, n=n).path,
                "query": f"{_fmt_s(s.query_start)}–{_fmt_s(s.query_end)}",
                "archive": f"{_fmt_s(s.archive_start)}–{_fmt_s(s.archive_end)}",
                "q_left": 100 * s.query_start / query_len,
                "q_width": max(1.0, 100 * (s.query_end - s.query_start) / query_len),
                "a_left": 100 * s.archive_start / archive_len,
                "a_width": max(1.0, 100 * (s.archive_end - s.archive_start) / archive_len),
                "speed": s.speed,
            })
            n += 1
        matches.append({"match": m, "segment_views": segments, "query_len": _fmt_s(query_len),
                        "archive_len": _fmt_s(archive_len)})
    return {
        "verdict": report.verdict,
        "verdict_words": VERDICT_WORDS[report.verdict],
        "explanation": report.explanation,
        "history": report.history,
        "earliest": report.earliest.item if report.earliest else None,
        "matches": matches,
        "source": report.source,
        "claims": report.claims,
        "checked_at": report.checked_at,
        "searched": report.searched,
        "timeline_url": request.url_for("web_timeline", job_id=job.id).path if report.matches else None,
        "platform_rows": platform_rows(report.source),  # service/report/platform.py
        "keyframes_url": request.url_for("web_keyframes", job_id=job.id).path,
        "pack": pack_view(request, job),  # service/http/web/evidence.py
        "export_pdf_url": request.url_for("web_export_pdf", job_id=job.id).path,
        "export_zip_url": request.url_for("web_export_zip", job_id=job.id).path,
    }


# -- archive (editors) -------------------------------------------------------
@router.get("/archive", response_class=HTMLResponse, name="web_archive")
def archive_page(request: Request, services: ServicesDep, key: WebKey, q: str | None = None,
                 added: int | None = None, offset: int = 0, removed: int | None = None) -> HTMLResponse:
    if not key.can("editor"):
        return page(request, "error.html", key, status=403, message="The archive page needs an editor key.")
    items = services.pipeline.archive.items(q=(q or "").strip()[:200] or None, limit=51, offset=max(0, offset))
    return page(request, "archive.html", key, items=items[:50], more=len(items) > 50, q=q or "", added=added,
                 offset=max(0, offset), error=None, form={}, removed=removed)


@router.post("/archive", name="web_archive_add")
async def archive_add(request: Request, services: ServicesDep, key: WebKey) -> Response:
    if not key.can("editor"):
        return page(request, "error.html", key, status=403, message="The archive page needs an editor key.")
    fields: dict[str, str] = {}
    try:
        await run_in_threadpool(check_job_quota, services, key)
        fields, upload = await posted_form(request, services, key)
        upload = take_kept(services, key, fields, upload)  # service/http/web/kept_upload.py
        limited = _rate_limited(services, key)
        if limited:
            discard_upload(upload)
            raise PermissionError(limited)
        refused = date_refused(fields, ("published",)) if upload is not None else None
        if refused:  # the file stays on the server for the corrected form
            return page(request, "archive.html", key, status=400, items=services.pipeline.archive.items(limit=50),
                         more=False, q="", added=None, offset=0, error=refused, form=fields, removed=None,
                         kept=kept_view(upload))
        url = fields.get("url", "").strip() or None
        if upload is not None:
            url = None
        meta = ArchiveMetadata(**{f: fields.get(f) or None for f in (
            "title", "published", "location", "event", "source_url", "notes", "factcheck_url")})
        job, _ = await run_in_threadpool(lambda: submit_archive_add(services, key, meta, url=url, upload=upload))
    except (PermissionError, FirstseenError) as exc:
        from service.http.errors import status_for

        items = services.pipeline.archive.items(limit=50)
        status = status_for(exc) if isinstance(exc, FirstseenError) else 400
        return page(request, "archive.html", key, status=status, items=items, more=False, q="", added=None,
                     offset=0, error=str(exc), form=fields, removed=None)
    return RedirectResponse(request.url_for("web_job", job_id=job.id).path, status_code=303)


def install_web(app: FastAPI, services: Services) -> None:
    """Mount the form, its static files and the session cookie on ``app``."""

    async def login_required(request: Request, _exc: Exception) -> Response:
        if request.method == "GET" and not request.url.path.endswith((".jpg", ".png", ".json")):
            return RedirectResponse(request.url_for("web_home").path, status_code=303)
        return JSONResponse({"error": {"code": "unauthorized", "message": "log in first"}}, status_code=401)

    app.add_exception_handler(LoginRequired, login_required)
    app.add_middleware(SessionMiddleware, secret_key=secret_key(services.settings),
                       session_cookie="firstseen_session", max_age=SESSION_MAX_AGE_S, same_site="lax",
                       https_only=services.settings.secure_cookies)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(router)
    from service.http.web import archive_pages, evidence, footage_page, keyframes, retry
    from service.http.web.publish import router as publish_router

    app.include_router(publish_router)
    app.include_router(archive_pages.router)
    app.include_router(keyframes.router)
    app.include_router(evidence.router)
    app.include_router(retry.router)
    app.include_router(footage_page.router)
