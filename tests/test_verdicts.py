"""Verdicts that say what they know: places from a gazetteer, honest misses and dates, every upload's own claim."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
from PIL import Image

from service.models import ArchiveItem
from service.timeline import entries_from_items
from tests.conftest import Media
from tests.live_app import serve, web_login


def test_places_are_compared_through_the_gazetteer_on_the_cli(cli, media: Media) -> None:
    cli("archive", "add", media.original, "--title", "Square", "--published", "2018-03-01", "--location", "Brussels")
    cli("archive", "add", media.other, "--title", "Bridge", "--published", "2019-05-01", "--location", "Kyiv")

    bruxelles = cli("check", media.reencode, "--claimed-location", "Bruxelles", "--no-remember", "--json").json()
    assert bruxelles["verdict"] == "seen_before", bruxelles["explanation"]
    assert "Bruxelles and Brussels are both Brussels, Belgium." in bruxelles["explanation"]

    kiev = cli("check", media.other, "--claimed-location", "Kiev", "--no-remember", "--json").json()
    assert kiev["verdict"] == "seen_before", kiev["explanation"]
    assert "Kiev and Kyiv are both Kyiv, Ukraine." in kiev["explanation"]

    aleppo = cli("check", media.reencode, "--claimed-location", "Aleppo", "--no-remember", "--json").json()
    assert aleppo["verdict"] == "misattributed"
    assert "Aleppo, Syria is not Brussels, Belgium." in aleppo["explanation"]

    shown = cli("check", media.reencode, "--claimed-location", "Aleppo", "--no-remember")
    assert shown.exit_code == 0 and "MISATTRIBUTED" in shown.stdout


def test_a_claimed_date_in_the_future_exits_2_with_one_line(cli, media: Media) -> None:
    result = cli("check", media.original, "--claimed-date", "2031-05-01")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "is in the future" in lines[0] and "Traceback" not in result.stderr
    assert cli("archive", "list", "--json").json() == []  # refused before anything was fetched or stored


def test_a_miss_says_not_in_our_archive_and_how_much_was_searched(cli, media: Media) -> None:
    cli("archive", "add", media.original, "--title", "Square", "--published", "2018-03-01")
    miss = cli("check", media.unrelated, "--no-remember", "--json").json()
    assert miss["verdict"] == "no_prior_match"
    assert miss["searched"]["items"] == 1 and 0 < miss["searched"]["hours"] < 0.01
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", miss["searched"]["newest"])
    assert miss["explanation"].startswith("Not in our archive: nothing in it (1 item, 12 seconds of footage, the "
                                          f"newest added {miss['searched']['newest']}) shows this footage.")
    assert "does not make the footage new" in miss["explanation"]


def test_a_claim_earlier_than_every_archived_copy_says_the_archive_cannot_speak_to_it(cli, media: Media) -> None:
    cli("archive", "add", media.original, "--title", "Strike", "--published", "2022-02-24", "--location", "Kharkiv")
    early = cli("check", media.reencode, "--claimed-date", "2014-05-02", "--claimed-location", "Kharkiv",
                "--no-remember", "--json").json()
    assert early["verdict"] == "seen_before"
    assert ("The claimed date (2014-05-02) is earlier than every archived copy (the earliest from 2022-02-24): "
            "the archive cannot speak to whether this footage existed then.") in early["explanation"]
    moved = cli("check", media.reencode, "--claimed-date", "2014-05-02", "--claimed-location", "Lviv",
                "--no-remember", "--json").json()
    assert moved["verdict"] == "misattributed" and "Lviv, Ukraine is not Kharkiv, Ukraine" in moved["explanation"]
    assert "the archive cannot speak to whether this footage existed then" in moved["explanation"]


CLAIMS = [  # (clip, claimed date, claimed place): three uploads of one footage, each with its own story
    ("reencode", "2020-01-15", "Kyiv"),
    ("excerpt_240p", "2021-03-11", "Kharkiv"),
    ("flipped", "2022-05-05", "Mosul"),
]


def test_three_uploads_keep_their_own_claims_on_one_footage_timeline(cli, home: Path, database_url: str | None,
                                                                     media: Media, tmp_path: Path) -> None:
    with serve(home, database_url) as live, live.client("editor") as ed:
        r = ed.post("/api/v1/archive", params={"wait": 60},
                    files={"file": ("original.mp4", media.original.read_bytes())},
                    data={"title": "Convoy ambush", "published": "2018-03-01", "location": "Idlib"})
        assert r.status_code == 201, r.text
        original = r.json()["result"]["id"]
        # a claim still to come is refused by the API as well, with the JSON error body
        future = ed.post("/api/v1/checks", json={"url": "https://example.org/v.mp4", "claimed_date": "2031-01-01"})
        assert future.status_code == 400 and future.json()["error"]["code"] == "bad_input"
        assert "in the future" in future.json()["error"]["message"]
        checks = []
        for clip, date, place in CLAIMS:
            r = ed.post("/api/v1/checks", files={"file": (f"{clip}.mp4", getattr(media, clip).read_bytes())},
                        data={"claimed_date": date, "claimed_location": place, "remember": "true"})
            assert r.status_code == 202, r.text
            done = live.wait_job(ed, r.json()["status_url"])
            assert done["status"] == "done" and done["report"]["verdict"] == "recycled", done
            checks.append(done)
        last = checks[-1]

        # API: the last check's footage holds the curated original and both earlier uploads with their claims
        footage = {u["id"]: u for u in last["report"]["footage"]}
        assert footage[original]["location"] == "Idlib" and footage[original]["claimed_location"] is None
        earlier = [footage[c["report"]["remembered_id"]] for c in checks[:2]]
        assert [(u["claimed_date"], u["claimed_location"], u["location"]) for u in earlier] == [
            ("2020-01-15", "Kyiv", None), ("2021-03-11", "Kharkiv", None)]

        # web: every upload in one table, each with its claim and where its date came from
        web_login(ed, live.keys["editor"])
        page = ed.get(f"/checks/{last['id']}").text
    rows = re.findall(r'<tr class="upload[^"]*"[^>]*>(.*?)</tr>', page, flags=re.S)
    cells = [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]
             for row in rows]
    assert [c[3] for c in cells] == ["—", "Kyiv, 2020-01-15", "Kharkiv, 2021-03-11", "Mosul, 2022-05-05"]
    assert [c[1] for c in cells] == ["2018-03-01", "2020-01-15", "2021-03-11", "2022-05-05"]
    assert [c[2] for c in cells] == ["recorded by an editor", *["the date it claims"] * 3]
    assert cells[0][4] == "Idlib"

    # CLI: the footage timeline draws all four uploads, each labelled with its claim and its date's origin
    shown = cli("footage", "show", str(original), "--json", "--png", tmp_path / "life.png").json()
    uploads = [ArchiveItem(**u) for u in shown["uploads"]]
    assert [u.claimed_location for u in uploads] == [None, "Kyiv", "Kharkiv", "Mosul"]
    entries = entries_from_items(uploads)
    assert len(entries) == 4 and [e.day.isoformat() for e in entries] == [
        "2018-03-01", "2020-01-15", "2021-03-11", "2022-05-05"]
    assert entries[0].label.endswith("(editor's date)") and not entries[0].claimed
    assert all(e.claimed and e.label.endswith("(date claimed by the upload)") for e in entries[1:])
    assert [e.label.split(" · claims ")[1].split(" (")[0] for e in entries[1:]] == [
        "Kyiv, 2020-01-15", "Kharkiv, 2021-03-11", "Mosul, 2022-05-05"]
    picture = np.asarray(Image.open(io.BytesIO((tmp_path / "life.png").read_bytes())).convert("L"))
    assert picture.std() > 10  # drawn from those entries (footage show --png), not a blank canvas


def test_the_api_check_has_no_claimreview_link_for_a_miss(home: Path, database_url: str | None,
                                                          media: Media) -> None:
    with serve(home, database_url) as live, live.client("reader") as rd:
        r = rd.post("/api/v1/checks", files={"file": ("u.mp4", media.unrelated.read_bytes())},
                    data={"remember": "false"})
        done = live.wait_job(rd, r.json()["status_url"])
        assert done["report"]["verdict"] == "no_prior_match" and done["claimreview_url"] is None
        refused = rd.get(f"/api/v1/checks/{done['id']}/claimreview")
        assert refused.status_code == 404 and "not in our archive" in refused.json()["error"]["message"]
