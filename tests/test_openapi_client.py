"""A client generated from /openapi.json by a standard generator reads the whole API with no hand-written code.

``openapi-python-client`` (PyPI) generates a package from the live server's spec into tmp; the test imports
it and archives footage, checks an excerpt, reads the typed report and downloads the evidence, the
timeline and the ClaimReview through its functions only. The one setting the generator gets is the
documented ``content_type_overrides`` that reads the JPEG, PNG, PDF and zip answers as bytes (docs/api.md).
"""

from __future__ import annotations

import importlib
import io
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.conftest import Media, database_for_test
from tests.live_app import LiveApp, serve

GENERATOR_CONFIG = """content_type_overrides:
  image/jpeg: application/octet-stream
  image/png: application/octet-stream
  application/pdf: application/octet-stream
  application/zip: application/octet-stream
"""
PACKAGE = "firstseen_generated_client"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    with database_for_test() as db, serve(tmp_path_factory.mktemp("client-home"), db) as app:
        yield app


@pytest.fixture(scope="module")
def client_package(live: LiveApp, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    out = tmp_path_factory.mktemp("generated")
    (out / "openapi.json").write_text(httpx.get(f"{live.url}/openapi.json").text)
    (out / "config.yaml").write_text(GENERATOR_CONFIG)
    generator = shutil.which("openapi-python-client", path=str(Path(sys.executable).parent))
    assert generator, "openapi-python-client is a test dependency (pyproject.toml)"
    run = subprocess.run([generator, "generate", "--path", "openapi.json", "--meta", "none", "--config",
                          "config.yaml", "--output-path", PACKAGE], cwd=out, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Unsupported" not in run.stdout + run.stderr, "the generator left an operation out: " + run.stdout
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _op(package: ModuleType, tag: str, name: str) -> Any:
    return importlib.import_module(f"{package.__name__}.api.{tag}.{name}")


def test_operation_ids_are_named_not_generated(live: LiveApp) -> None:
    spec = httpx.get(f"{live.url}/openapi.json").json()
    ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    assert not [i for i in ids if i.endswith(("_get", "_post", "_patch", "_delete")) or "api_v1" in i], ids
    check = spec["paths"]["/api/v1/checks/{job_id}"]["get"]["responses"]["200"]["content"]["application/json"]
    status = spec["components"]["schemas"][check["schema"]["$ref"].rsplit("/", 1)[1]]
    assert status["properties"]["report"]["anyOf"][0]["$ref"].endswith("/ReportOut")
    for path in ("/api/v1/checks/{job_id}/evidence/{n}.jpg", "/api/v1/checks/{job_id}/timeline.png"):
        content = spec["paths"][path]["get"]["responses"]["200"]["content"]
        assert [c["schema"]["format"] for c in content.values()] == ["binary"]


def test_generated_client_reads_report_evidence_timeline_and_claimreview(
        live: LiveApp, client_package: ModuleType, media: Media) -> None:
    pkg = client_package
    models = importlib.import_module(f"{pkg.__name__}.models")
    types = importlib.import_module(f"{pkg.__name__}.types")
    editor = pkg.AuthenticatedClient(base_url=live.url, token=live.keys["editor"], timeout=httpx.Timeout(90.0),
                                     raise_on_unexpected_status=True)
    reader = pkg.AuthenticatedClient(base_url=live.url, token=live.keys["reader"], timeout=httpx.Timeout(90.0),
                                     raise_on_unexpected_status=True)
    with editor, reader:
        _archive_check_and_read(pkg, models, types, editor, reader, media)


def _archive_check_and_read(pkg: ModuleType, models: ModuleType, types: ModuleType, editor: Any, reader: Any,
                            media: Media) -> None:
    with media.original.open("rb") as f:
        add = _op(pkg, "archive", "add_archive_item")
        added = add.sync(client=editor, wait=60, body=models.AddArchiveItemFilesBody(
            file=types.File(payload=f, file_name="original.mp4", mime_type="video/mp4"),
            title="Convoy <b>ambush</b>", published="2018-03-01", location="Idlib",
            source_url="https://example.org/v/1"))
    assert isinstance(added, models.JobStatus) and added.status.value == "done", added
    item = added.result
    assert isinstance(item, models.ArchiveItemOut) and item.title == "Convoy <b>ambush</b>"

    with media.excerpt_240p.open("rb") as f:
        created = _op(pkg, "checks", "create_check").sync(client=reader, body=models.CreateCheckFilesBody(
            file=types.File(payload=f, file_name="viral.mp4", mime_type="video/mp4"),
            claimed_date="2021-03-11", claimed_location="Kyiv", remember=False))
    assert isinstance(created, models.JobCreated), created
    status = None
    for _ in range(20):
        status = _op(pkg, "checks", "get_check").sync(client=reader, job_id=created.id, wait=10)
        if status.status.value in ("done", "failed"):
            break
    assert isinstance(status, models.CheckStatus) and status.status.value == "done", status

    report = status.report
    assert isinstance(report, models.ReportOut)
    assert report.verdict.value == "recycled" and report.claims.location == "Kyiv"
    assert report.source.kind.value == "upload" and report.source.input_ == "viral.mp4"
    assert report.source.duration and abs(report.source.duration - 6.0) < 0.5  # an upload's own length
    earliest = report.earliest
    assert isinstance(earliest, models.MatchOut) and earliest.archive_id == item.id
    segment = earliest.segments[0]
    assert isinstance(segment, models.SegmentOut) and abs(segment.archive_start - 4.0) <= 1.0
    assert [u.id for u in report.footage] == [item.id]

    evidence = _op(pkg, "checks", "check_evidence").sync(client=reader, job_id=created.id, n=0)
    assert isinstance(evidence, types.File)
    picture = Image.open(io.BytesIO(evidence.payload.read()))
    assert picture.format == "JPEG" and picture.width > picture.height
    timeline = _op(pkg, "checks", "check_timeline").sync(client=reader, job_id=created.id)
    assert isinstance(timeline, types.File) and Image.open(io.BytesIO(timeline.payload.read())).format == "PNG"
    pdf = _op(pkg, "checks", "check_report_pdf").sync(client=reader, job_id=created.id)
    assert isinstance(pdf, types.File) and pdf.payload.read().startswith(b"%PDF-")
    frame = _op(pkg, "checks", "check_evidence_frame").sync(client=reader, job_id=created.id, n=0,
                                                            position=models.CheckEvidenceFramePosition.END,
                                                            side=models.CheckEvidenceFrameSide.ARCHIVE)
    assert isinstance(frame, types.File) and Image.open(io.BytesIO(frame.payload.read())).format == "JPEG"
    keyframes = _op(pkg, "checks", "check_keyframes").sync(client=reader, job_id=created.id)
    assert isinstance(keyframes, models.KeyframesOut) and keyframes.keyframes and not keyframes.public
    review = _op(pkg, "checks", "check_claimreview").sync(client=reader, job_id=created.id)
    assert isinstance(review, models.ClaimReviewOut) and review.context == "https://schema.org"
    assert review.type_ == "ClaimReview" and "Kyiv" in review.claim_reviewed

    footage = _op(pkg, "archive", "get_footage").sync(client=reader, item_id=item.id)
    assert isinstance(footage, models.FootageOut) and footage.uploads[0].id == item.id


def test_no_server_path_in_any_response(live: LiveApp, media: Media) -> None:
    home = str(live.settings.home)
    with live.client("reader") as c:
        r = c.post("/api/v1/checks", files={"file": ("clip name.mp4", media.reencode.read_bytes(), "video/mp4")},
                   data={"remember": "true"})
        check = live.wait_job(c, r.json()["status_url"])
        job = c.get(f"/api/v1/jobs/{check['id']}").json()
    assert check["status"] == "done" and job["result"]["verdict"] == check["report"]["verdict"]
    with live.client("admin") as c:
        bodies = [json.dumps(check), json.dumps(job), c.get("/api/v1/audit").text, c.get("/api/v1/archive").text]
    for body in bodies:
        assert home not in body and "media_path" not in body and "/uploads/" not in body, body[:500]
    assert check["report"]["source"]["input"] == "clip_name.mp4" and check["report"]["source"]["kind"] == "upload"
