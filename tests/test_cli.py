"""The CLI contract that outside checks and the API rely on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from service.settings import Settings
from tests.conftest import Media, archive_digest


def test_add_then_check_excerpt_is_recycled_with_archive_seconds(cli, media: Media) -> None:
    added = cli("archive", "add", media.original, "--title", "Convoy ambush", "--published", "2018-03-01",
                "--location", "Idlib", "--event", "ambush", "--source-url", "https://example.org/v/1", "--json")
    assert added.exit_code == 0, added.stderr
    item = added.json()
    assert item["id"] == 1 and item["published"] == "2018-03-01" and item["kind"] == "curated"

    checked = cli("check", media.excerpt_240p, "--claimed-date", "2021-03-11", "--json")
    assert checked.exit_code == 0, checked.stderr
    report = checked.json()
    assert report["verdict"] == "recycled"
    assert report["earliest"]["archive_id"] == 1
    match = report["matches"][0]
    for key in ("archive_id", "title", "published", "location", "source_url", "score", "coverage", "flipped",
                "segments"):
        assert key in match
    seg = match["segments"][0]
    assert abs(seg["archive_start"] - 4.0) <= 1.0 and abs(seg["archive_end"] - 10.0) <= 1.0
    assert report["source"]["sha256"] and report["source"]["media_path"]


def test_readable_report_without_json(cli, media: Media) -> None:
    cli("archive", "add", media.original, "--title", "Convoy ambush", "--published", "2018-03-01")
    res = cli("check", media.flipped, "--claimed-date", "2020-01-01", "--no-remember")
    assert res.exit_code == 0
    assert "RECYCLED" in res.stdout and "Convoy ambush" in res.stdout and "mirror" in res.stdout


def test_archive_list_show_remove(cli, media: Media) -> None:
    cli("archive", "add", media.original, "--title", "A", "--published", "2018")
    cli("archive", "add", media.other, "--title", "B", "--location", "Mosul")
    listed = cli("archive", "list", "--json").json()
    assert [i["title"] for i in listed] == ["A", "B"]
    assert [i["title"] for i in cli("archive", "list", "--json", "-q", "mosul").json()] == ["B"]
    shown = cli("archive", "show", "2", "--json").json()
    assert shown["location"] == "Mosul"
    assert cli("archive", "remove", "1").exit_code == 0
    assert [i["title"] for i in cli("archive", "list", "--json").json()] == ["B"]
    missing = cli("archive", "show", "1")
    assert missing.exit_code == 2 and "no archive item 1" in missing.stderr


def test_bulk_import_from_csv_manifest(cli, media: Media, tmp_path: Path) -> None:
    folder = media.original.parent
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("file,title,published,location\n"
                        f"{media.original.name},Ambush,2018-03-01,Idlib\n"
                        f"{media.other.name},Strike,2019-07-02,Aleppo\n")
    res = cli("archive", "import", folder, "--manifest", manifest, "--json")
    assert res.exit_code == 0, res.stderr
    assert [i["location"] for i in res.json()] == ["Idlib", "Aleppo"]
    report = cli("check", media.compilation, "--json").json()
    assert {m["title"] for m in report["matches"]} == {"Ambush", "Strike"}


def test_bulk_import_json_manifest_with_a_missing_file_adds_nothing(cli, media: Media, tmp_path: Path) -> None:
    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps([{"file": media.original.name, "title": "A"}, {"file": "nope.mp4"}]))
    res = cli("archive", "import", media.original.parent, "--manifest", manifest)
    assert res.exit_code == 2 and "nope.mp4" in res.stderr
    assert cli("archive", "list", "--json").json() == []


@pytest.mark.parametrize("which", ["not_video", "empty", "truncated"])
def test_bad_files_exit_2_with_one_line_and_archive_unchanged(cli, media: Media, settings: Settings,
                                                               which: str) -> None:
    cli("archive", "add", media.original, "--title", "A")
    before = archive_digest(settings)
    for verb in (("check",), ("archive", "add")):
        res = cli(*verb, getattr(media, which))
        assert res.exit_code == 2, res.stdout
        assert "Traceback" not in res.stderr
        assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert archive_digest(settings) == before


@pytest.mark.parametrize(
    "args, needle",
    [
        (("check", "/no/such/file.mp4"), "no such file"),
        (("check", "ftp://example.org/x.mp4"), "refused"),
        (("check", "ORIGINAL", "--claimed-date", "yesterday"), "cannot read date"),
        (("archive", "add", "ORIGINAL", "--published", "2018-13-45"), "cannot read date"),
    ],
)
def test_bad_arguments_exit_2(cli, media: Media, args: tuple[str, ...], needle: str) -> None:
    res = cli(*[str(media.original) if a == "ORIGINAL" else a for a in args])
    assert res.exit_code == 2 and needle in res.stderr and "Traceback" not in res.stderr


def test_installed_console_script_reports_errors_without_traceback(home: Path, media: Media) -> None:
    exe = Path(sys.executable).with_name("firstseen")
    res = subprocess.run([str(exe), "check", str(media.not_video)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr and "not a readable video" in res.stderr


@pytest.mark.parametrize("args", [("archive", "show"), ("archive", "remove"), ("footage", "show"),
                                  ("sources", "remove")])
def test_ids_past_the_database_integer_are_simply_not_found(cli, args: tuple[str, ...]) -> None:
    res = cli(*args, "99999999999999999999999")
    assert res.exit_code == 2 and "no " in res.stderr and "Traceback" not in res.stderr


# What only the whole pipeline needs: decoders, yt-dlp, scene detection, the PDF writer, the index.
_PIPELINE_ONLY = ("av", "cv2", "yt_dlp", "scenedetect", "fpdf", "service.pipeline", "service.decode.frames",
                  "service.archive.index")
_IMPORTED_BY = """
import json, sys
from service.cli import app
try:
    app(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
sys.stderr.write(json.dumps({"exit": code, "modules": sorted(sys.modules)}) + "\\n")
"""


def test_commands_that_only_read_the_archive_do_not_import_the_pipeline(cli, home: Path, media: Media) -> None:
    added = cli("archive", "add", media.original, "--title", "Strike", "--json").json()
    for args in (("archive", "list"), ("archive", "list", "--json"), ("archive", "show", str(added["id"])),
                 ("archive", "audit"), ("footage", "show", str(added["id"])), ("sources", "list"),
                 ("keys", "list")):
        res = subprocess.run([sys.executable, "-c", _IMPORTED_BY, *args], capture_output=True, text=True,
                             timeout=120)
        outcome = json.loads(res.stderr.strip().splitlines()[-1])
        assert outcome["exit"] == 0, (args, res.stderr)
        assert [m for m in _PIPELINE_ONLY if m in outcome["modules"]] == [], args
    assert "Strike" in subprocess.run([sys.executable, "-c", _IMPORTED_BY, "archive", "list"], capture_output=True,
                                      text=True, timeout=120).stdout
