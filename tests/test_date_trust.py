"""Trust in dates (issue 11, item 7): a date a web page claims is shown as a claim, never a verdict of recycled.

The attack: a reader checks a page whose JSON-LD says ``uploadDate: 2001-01-01`` with ``remember`` on; the
page's date became a dated observed item, and every later honest check of that footage read "recycled …
online on 2001-01-01". Here the page is real (a loopback server, the real yt-dlp), the reader goes through
the real app, and the later check must say what the date is worth.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from alembic import command

from service.archive.store import ArchiveStore
from service.archive.video_record import video_record
from service.dates import PLATFORM_HOSTS, fetched_date_origin, parse_date
from service.db.engine import create_db_engine, open_database
from service.db.schema import alembic_config, migrate
from service.errors import BadInput
from service.ingest.downloader import ProgressFn
from service.match.verdict import decide
from service.models import ArchiveItem, ArchiveMetadata, Claims, Match, MatchEvidence, SourceInfo, VideoFingerprint
from service.pipeline import Pipeline
from service.settings import Settings
from service.signals.base import SignalRecord
from service.timeline import entries_from_items
from tests.conftest import LoopbackServer, Media, database_for_test, serve_directory
from tests.live_app import LiveApp, serve, web_login

PAGE_CLAIM = "2001-01-01"


def claiming_page(www: Path, clip: Path) -> str:
    """A news-looking page whose JSON-LD claims the video was uploaded on 1 January 2001."""
    (www / "media").mkdir(exist_ok=True)
    shutil.copy(clip, www / "media" / "clip.mp4")
    return ('<!doctype html><html><head><title>Strike on the bridge</title>'
            '<script type="application/ld+json">{"@context": "https://schema.org", "@type": "VideoObject", '
            f'"name": "Strike on the bridge", "uploadDate": "{PAGE_CLAIM}", '
            '"contentUrl": "{base}media/clip.mp4", "thumbnailUrl": "{base}thumb.jpg"}</script>'
            "</head><body><p>Footage from this morning.</p></body></html>")


@dataclass
class Poisoned:
    live: LiveApp
    pages: LoopbackServer
    remembered: dict[str, Any]  # the reader's remembered check of the claiming page
    later: dict[str, Any]  # an honest check of the same footage, claimed 2021-03-11


@pytest.fixture(scope="module")
def poisoned(tmp_path_factory: pytest.TempPathFactory, media: Media) -> Iterator[Poisoned]:
    www = tmp_path_factory.mktemp("claiming-www")
    with database_for_test() as db, serve(tmp_path_factory.mktemp("trust-home"), db,
                                          rate_limit_per_minute=100_000) as live, serve_directory(www) as pages:
        (www / "story.html").write_text(claiming_page(www, media.original).replace("{base}", pages.url("")))
        with live.client("reader") as rd:
            r = rd.post("/api/v1/checks", json={"url": pages.url("story.html"), "remember": True})
            assert r.status_code == 202, r.text
            remembered = live.wait_job(rd, r.json()["status_url"], timeout=120)
            assert remembered["status"] == "done", remembered
            r = rd.post("/api/v1/checks", files={"file": ("viral.mp4", media.excerpt_240p.read_bytes())},
                        data={"claimed_date": "2021-03-11", "remember": "false"})
            assert r.status_code == 202, r.text
            later = live.wait_job(rd, r.json()["status_url"], timeout=120)
            assert later["status"] == "done", later
        yield Poisoned(live, pages, remembered, later)


def test_page_claiming_2001_remembered_by_a_reader_does_not_make_a_later_check_recycled(poisoned: Poisoned) -> None:
    first = poisoned.remembered["report"]
    assert first["source"]["extractor"] == "Generic" and first["source"]["upload_date"] == "20010101"
    assert first["remembered_id"]

    report = poisoned.later["report"]
    assert report["verdict"] == "seen_before", report["explanation"]
    assert "recycled" not in report["explanation"]
    # The report names the date as what the page claims.
    assert f"A web page claims it was uploaded on {PAGE_CLAIM}" in report["explanation"]
    assert "not verified" in report["explanation"]
    match = report["matches"][0]
    assert match["archive_id"] == first["remembered_id"]
    assert match["published"] == PAGE_CLAIM and match["date_origin"] == "claimed"
    assert report["footage"][0]["date_origin"] == "claimed"


def test_a_claimed_date_is_labelled_in_the_api_claimreview_web_report_archive_list_and_timeline(
        poisoned: Poisoned) -> None:
    live, later, remembered_id = poisoned.live, poisoned.later, poisoned.remembered["report"]["remembered_id"]
    with live.client("editor") as ed:
        item = ed.get(f"/api/v1/archive/{remembered_id}").json()
        assert item["kind"] == "observed" and item["date_origin"] == "claimed"
        assert later["report"]["verdict"] == "seen_before"
        assert ed.get(later["claimreview_url"]).status_code == 404  # no rating until an editor picks one
        assert ed.put(f"/api/v1/checks/{later['id']}/review", json={"rating": 2}).status_code == 200
        review = ed.get(f"/api/v1/checks/{later['id']}/mediareview").json()
        assert review["originalMediaContextDescription"] and PAGE_CLAIM not in json.dumps(review)  # a claim, no fact
        web_login(ed, live.keys["editor"])
        page = " ".join(ed.get(f"/checks/{later['id']}").text.split())
        archive = " ".join(ed.get("/archive").text.split())
    assert f'<span class="date date-claimed">{PAGE_CLAIM} (claimed by a web page, not verified)</span>' in page
    assert f'<span class="date date-claimed">{PAGE_CLAIM}</span>' in archive
    assert "claimed by a web page, not verified" in archive

    entries = entries_from_items([ArchiveItem(**d) for d in later["report"]["footage"]])
    assert [e.claimed for e in entries] == [True] and entries[0].label.endswith("(date claimed by page)")


def test_an_editors_date_still_makes_recycled_and_a_page_claim_never_outranks_it(poisoned: Poisoned,
                                                                                 media: Media) -> None:
    live = poisoned.live
    with live.client("editor") as ed:
        r = ed.post("/api/v1/archive", params={"wait": 60},
                    files={"file": ("original.mp4", media.original.read_bytes())},
                    data={"title": "Convoy ambush", "published": "2018-03-01", "location": "Idlib"})
        assert r.status_code == 201, r.text
        curated = r.json()["result"]
        assert curated["date_origin"] == "curated"
    with live.client("reader") as rd:
        r = rd.post("/api/v1/checks", files={"file": ("viral.mp4", media.flipped.read_bytes())},
                    data={"claimed_date": "2021-03-11", "remember": "false"})
        report = live.wait_job(rd, r.json()["status_url"], timeout=120)["report"]
    assert report["verdict"] == "recycled"
    assert report["earliest"]["archive_id"] == curated["id"] and report["earliest"]["date_origin"] == "curated"
    assert "online on 2018-03-01" in report["explanation"]
    assert "That date is recorded by an editor." in report["explanation"]
    assert PAGE_CLAIM not in report["explanation"]  # the page's claim is told in the history, beside it


# -- where a fetched date's worth is decided ----------------------------------------------------------------
@pytest.mark.parametrize(("extractor", "page", "origin"), [
    ("Youtube", "https://www.youtube.com/watch?v=abc", "platform"),
    ("Youtube", "https://m.youtube.com/watch?v=abc", "platform"),
    ("Twitter", "https://x.com/someone/status/1", "platform"),
    ("TelegramEmbed", "https://t.me/channel/12", "platform"),
    # A page's JSON-LD naming a YouTube video: yt-dlp reports the YouTube extractor with the page's own date.
    ("Youtube", "https://news.example/story.html", "claimed"),
    ("Youtube", "https://youtube.com.evil.example/watch?v=abc", "claimed"),
    ("Youtube", "https://evil.example/?u=https://www.youtube.com/", "claimed"),
    ("Generic", "https://www.youtube.com/watch?v=abc", "claimed"),
    ("HTML5MediaEmbed", "http://127.0.0.1/story.html", "claimed"),
    ("Facebook", "https://www.facebook.com/page/videos/1", "claimed"),  # pages can backdate posts
    ("PeerTube", "https://peertube.example/w/abc", "claimed"),  # whoever runs the server sets its dates
    (None, None, "claimed"),
])
def test_only_a_known_platforms_extractor_on_its_own_pages_attests_a_date(extractor: str | None, page: str | None,
                                                                         origin: str) -> None:
    assert fetched_date_origin(extractor, page) == origin


def test_every_platform_named_is_a_yt_dlp_extractor() -> None:
    from yt_dlp.extractor import gen_extractor_classes

    keys = {ie.ie_key() for ie in gen_extractor_classes()}
    assert set(PLATFORM_HOSTS) <= keys, set(PLATFORM_HOSTS) - keys
    assert not set(PLATFORM_HOSTS) & {"Generic", "HTML5MediaEmbed", "Facebook", "PeerTube"}


class _PlatformDownloader:
    """A YouTube upload of the original clip, as yt-dlp's YouTube extractor describes it (no network)."""

    def __init__(self, clip: Path) -> None:
        self.clip = clip

    def drop_cached(self, url: str) -> None:
        return None

    def fetch(self, source: str, progress: ProgressFn | None = None) -> SourceInfo:
        from service.ingest.downloader import file_sha256

        return SourceInfo(input=source, media_path=str(self.clip), sha256=file_sha256(self.clip),
                          size_bytes=self.clip.stat().st_size, extractor="Youtube", video_id="abc",
                          webpage_url="https://www.youtube.com/watch?v=abc", title="Convoy", uploader="Channel X",
                          upload_date="20190702",
                          timestamp=dt.datetime(2019, 7, 2, 9, 30, tzinfo=dt.UTC).timestamp())


def test_a_readers_remembered_platform_upload_makes_recycled_but_its_claimed_place_records_nothing(
        settings: Settings, media: Media) -> None:
    with Pipeline.from_settings(settings, downloader=_PlatformDownloader(media.original)) as p:
        first = p.check("https://www.youtube.com/watch?v=abc", Claims(location="Idlib"), remember=True)
        assert first.remembered_id is not None
        item = p.store.get(first.remembered_id)
        assert (item.published, item.date_origin, item.location) == ("2019-07-02", "platform", None)
        assert item.claimed_location == "Idlib"  # the upload's claim, apart from provenance
    with Pipeline.from_settings(settings) as p:
        later = p.check(str(media.excerpt_240p), Claims(date=parse_date("2021-03-11")))
        assert later.verdict == "recycled" and later.earliest is not None
        assert later.earliest.item.id == first.remembered_id
        assert "That date is Youtube's own upload date." in later.explanation
        # The reader's "Idlib" is what a reader claimed, not where the footage was recorded.
        assert p.check(str(media.excerpt_240p), Claims(location="Fallujah")).verdict == "seen_before"


# -- the verdict rules on their own --------------------------------------------------------------------------
def _item(item_id: int, kind: str, published: str | None, origin: str | None, location: str | None = None,
          ) -> ArchiveItem:
    return ArchiveItem(id=item_id, kind=kind, title=f"upload {item_id}", published=published, location=location,
                       event=None, source_url=None, notes=None, factcheck_url=None, platform=None, uploader=None,
                       sha256="0" * 64, duration=10.0, frame_count=20, added_at="2026-01-01T00:00:00+00:00",
                       date_origin=origin if published else None)


def _match(item: ArchiveItem) -> Match:
    evidence = MatchEvidence(basis="moving_content", frames_matched=20, frames_compared=20, foreground_matched=20,
                             foreground_compared=20, query_share=1.0, short=False)
    return Match(item=item, score=0.9, coverage=1.0, flipped=False, transform="full", segments=(),
                 evidence=evidence)


SOURCE = SourceInfo(input="upload.mp4", media_path="upload.mp4", sha256="1" * 64, size_bytes=1)


@pytest.mark.parametrize(("origin", "verdict"), [("curated", "recycled"), ("platform", "recycled"),
                                                 ("source", "recycled"), ("claimed", "seen_before"),
                                                 (None, "seen_before")])
def test_only_a_date_the_archive_stands_behind_makes_recycled(origin: str | None, verdict: str) -> None:
    kind = "curated" if origin == "curated" else "observed"
    claims = Claims(date=parse_date("2021-03-11"))
    got, _earliest, text = decide([_match(_item(1, kind, "2001-01-01", origin))], claims, SOURCE)
    assert got == verdict, text
    if verdict == "seen_before":
        assert "A web page claims it was uploaded on 2001-01-01" in text and "not verified" in text


def test_a_claimed_date_never_outranks_a_curated_upload() -> None:
    curated = _match(_item(1, "curated", "2018-03-01", "curated", location="Idlib"))
    claimed = _match(_item(2, "observed", "2001-01-01", "claimed", location="Fallujah"))
    verdict, earliest, text = decide([claimed, curated], Claims(date=parse_date("2018-06-01")), SOURCE)
    assert verdict == "recycled" and earliest is curated
    verdict, earliest, text = decide([claimed, curated], Claims(date=parse_date("2017-01-01")), SOURCE)
    assert verdict == "seen_before" and earliest is curated
    assert "A web page claims it was uploaded on 2001-01-01" in text
    # Not even undated: curated provenance comes before a page's claim.
    undated = _match(_item(3, "curated", None, None, location="Idlib"))
    _verdict, earliest, _text = decide([claimed, undated], Claims(), SOURCE)
    assert earliest is undated


def test_a_curated_upload_wins_a_tie_and_a_readers_place_is_never_recorded_provenance() -> None:
    observed = _match(_item(1, "observed", "2018-03-01", "platform", location="Fallujah"))
    curated = _match(_item(2, "curated", "2018-03-01", "curated", location="Idlib"))
    _verdict, earliest, _text = decide([observed, curated], Claims(date=parse_date("2021-01-01")), SOURCE)
    assert earliest is curated
    assert decide([observed], Claims(location="Idlib"), SOURCE)[0] == "seen_before"
    verdict, earliest, text = decide([observed, curated], Claims(location="Fallujah"), SOURCE)
    assert verdict == "misattributed" and earliest is curated and "'Idlib'" in text


# -- stored, edited, exported and migrated with the item -----------------------------------------------------
def _fingerprint() -> list[SignalRecord]:
    return [video_record(VideoFingerprint("phash-8x8", ("full",), np.arange(4, dtype=np.float32),
                                          np.arange(1, 5, dtype=np.uint64).reshape(4, 1), 2.0))]


_SIZE = {"duration": 2.0, "frame_count": 4}


def test_the_store_keeps_the_origin_and_an_editors_edit_vouches_for_the_date(cli: Any, settings: Settings) -> None:
    settings.ensure_dirs()
    store = ArchiveStore(open_database(settings.resolved_database_url))
    try:
        dated = ArchiveMetadata(published="2019-07-02")
        assert store.add(dated, _fingerprint(), "a" * 64, **_SIZE).date_origin == "curated"
        observed = store.add(dated, _fingerprint(), "b" * 64, **_SIZE, kind="observed")
        assert observed.date_origin == "claimed"  # nobody vouched
        assert store.add(ArchiveMetadata(), _fingerprint(), "c" * 64, **_SIZE, kind="observed",
                         date_origin="platform").date_origin is None  # no date, no origin
        with pytest.raises(BadInput):
            store.add(dated, _fingerprint(), "d" * 64, **_SIZE, date_origin="trust me")
        assert store.update(observed.id, {"title": "x"}).date_origin == "claimed"
        assert store.update(observed.id, {"published": "2019-07-03"}).date_origin == "curated"
        assert store.update(observed.id, {"published": None}).date_origin is None

        platform = store.add(dated, _fingerprint(), "e" * 64, **_SIZE, kind="observed", date_origin="platform")
        out = settings.home / "export.jsonl"
        assert cli("archive", "export", out).exit_code == 0
        assert '"date_origin": "platform"' in out.read_text()
        before = {i.sha256: i.date_origin for i in store.list()}
        imported = cli("archive", "import", out)
        assert imported.exit_code == 0, imported.stderr
        after = [i for i in store.list() if i.id > platform.id]
        assert {i.sha256: i.date_origin for i in after} == before
    finally:
        store.engine.dispose()


def test_dates_stored_before_origins_get_the_origin_their_rows_support(settings: Settings) -> None:
    settings.ensure_dirs()
    engine = create_db_engine(settings.resolved_database_url)  # no schema yet: built up to 0003 below
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0003")  # type: ignore[arg-type]
        rows = [  # (kind, published, origin, platform, source_url) -> expected date_origin
            (("curated", "2018-03-01", None, None, None), "curated"),
            (("observed", "2001-01-01", "job:a", "Generic", "http://news.example/story"), "claimed"),
            (("observed", "2019-07-02", "job:b", "Youtube", "https://www.youtube.com/watch?v=x"), "platform"),
            (("observed", "2019-07-02", "job:c", "Youtube", "https://news.example/story"), "claimed"),
            (("observed", "2019-07-02", "crawl:1:ab", "Feed", "https://feed.example/1.mp4"), "source"),
            (("observed", None, "job:d", "Youtube", "https://www.youtube.com/watch?v=y"), None),
        ]
        with engine.begin() as conn:
            for (kind, published, origin, platform, url), _ in rows:
                conn.execute(sa.text(
                    "INSERT INTO items (kind, published, origin, platform, source_url, sha256, duration, "
                    "frame_count, added_at) VALUES (:k, :p, :o, :pl, :u, 'x', 1.0, 0, '2026-01-01')"),
                    {"k": kind, "p": published, "o": origin, "pl": platform, "u": url})
        migrate(engine)  # to the newest schema
        with engine.connect() as conn:
            got = [r[0] for r in conn.execute(sa.text("SELECT date_origin FROM items ORDER BY id"))]
        assert got == [expected for _, expected in rows]
    finally:
        engine.dispose()
