"""Ingest: turn a link or a local path into a local media file plus its metadata.

First stage of the data flow (link → **ingest** → decode → fingerprint → match).
yt-dlp is embedded through ``YoutubeDL`` (never a subprocess), configured in
one place (``_ydl_params``), and every request it makes passes the link-safety
guard in ``service.ingest.safety``. Downloads are cached by URL so checking the
same link twice fetches it once.

``max_download_bytes`` holds whatever the server says: yt-dlp's ``max_filesize``
refuses a body whose announced length is too long, but a body need not announce
one (HTTP/1.0 ended by closing, chunked, gzip). So the guard reads no body past
the limit, yt-dlp reads in fixed ``DOWNLOAD_BLOCK_BYTES`` blocks, and a progress
hook (called after every block written) refuses once all blocks of the download
(every fragment of an HLS stream together) pass it: at most one block more than
the limit ever reaches the disk, and the partial download is removed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from service.errors import BadInput, FetchFailed, FirstseenError, TooLarge
from service.models import SourceInfo
from service.settings import Settings

__all__ = ["DOWNLOAD_BLOCK_BYTES", "clean_message", "Downloader", "file_sha256", "is_url", "LocalOrYtDlpDownloader",
           "ProgressFn", "YtDlpLogger"]

log = logging.getLogger(__name__)

ProgressFn = Callable[[float, str], None]  # (fraction 0..1, stage name)

# Formats that need no merging: one file holding the video (audio optional),
# at most 1080p because frames are shrunk to a few hundred pixels anyway.
FORMAT_NO_MERGE = "bv*[height<=1080]/b[height<=1080]/bv*/b"

# yt-dlp reads and writes a download in blocks of this size (it would grow them to 4 MiB), and checks
# the byte limit after each: the most a download can pass the limit by. Large enough that the
# per-block overhead (a Python loop turn and a hook call) stays far below the cost of the bytes.
DOWNLOAD_BLOCK_BYTES = 256 * 1024


class Downloader(Protocol):
    def drop_cached(self, url: str) -> None:
        """Forget a cached download (crawls keep fingerprints, not media)."""

    def fetch(self, source: str, progress: ProgressFn | None = None) -> SourceInfo: ...


def is_url(source: str) -> bool:
    return "://" in source or source.startswith(("data:", "javascript:"))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class YtDlpLogger:
    """Routes yt-dlp's chatter into our logging instead of stdout."""

    def debug(self, msg: str) -> None:
        log.debug("yt-dlp: %s", msg)

    def info(self, msg: str) -> None:
        log.debug("yt-dlp: %s", msg)

    def warning(self, msg: str) -> None:
        log.info("yt-dlp: %s", msg)

    def error(self, msg: str) -> None:
        log.info("yt-dlp: %s", msg)


def clean_message(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    for prefix in ("ERROR: ", "DownloadError: "):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return text


class LocalOrYtDlpDownloader:
    """Local paths are used in place; URLs go through guarded yt-dlp into the cache."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    # -- local files ---------------------------------------------------
    def _local(self, source: str) -> SourceInfo:
        path = Path(source).expanduser()
        if not path.exists():
            raise BadInput(f"no such file: {source}")
        if not path.is_file():
            raise BadInput(f"not a file: {source}")
        size = path.stat().st_size
        if size == 0:
            raise BadInput(f"empty file: {source}")
        if size > self.settings.max_download_bytes:
            raise TooLarge(
                f"{source} is {size / 1e6:.0f} MB, over the limit of "
                f"{self.settings.max_download_bytes / 1e6:.0f} MB"
            )
        return SourceInfo(
            input=source,
            media_path=str(path.resolve()),
            sha256=file_sha256(path),
            size_bytes=size,
            title=path.stem,
        )

    # -- links ---------------------------------------------------------
    def _cache_dir_for(self, url: str) -> Path:
        key = hashlib.sha256(url.encode()).hexdigest()[:32]
        return self.settings.cache_dir / "downloads" / key

    def _ydl_params(self, outdir: Path, hooks: list[Callable[[dict[str, Any]], None]],
                    rejected: list[str]) -> dict[str, Any]:
        max_duration = self.settings.max_duration_s

        def match_filter(info: dict[str, Any], *, incomplete: bool = False) -> str | None:
            if info.get("is_live") or info.get("live_status") in ("is_live", "is_upcoming"):
                rejected.append("live streams are not supported; check the recording afterwards")
                return rejected[-1]
            duration = info.get("duration")
            if duration is not None and duration > max_duration:
                rejected.append(
                    f"video is {duration:.0f} s long, over the limit of {max_duration:.0f} s"
                )
                return rejected[-1]
            return None

        return {
            "format": FORMAT_NO_MERGE,
            "outtmpl": {"default": str(outdir / "media.%(ext)s")},
            "noplaylist": True,
            "playlist_items": "1",
            "max_filesize": self.settings.max_download_bytes,  # when the body announces its length
            "buffersize": DOWNLOAD_BLOCK_BYTES,
            "noresizebuffer": True,
            "socket_timeout": self.settings.socket_timeout_s,
            "match_filter": match_filter,
            "logger": YtDlpLogger(),
            "progress_hooks": hooks,
            "quiet": True,
            "no_warnings": True,
            "noprogress": True,
            "retries": 2,
            "fragment_retries": 2,
            "overwrites": True,
            "cachedir": False,
            "writeinfojson": False,
        }

    def _fetch_url(self, url: str, progress: ProgressFn | None) -> SourceInfo:
        from service.ingest.fetch_words import plain_fetch_error
        from service.ingest.safety import check_url, guarded_youtube_dl, release_responses, unwrap_refusal

        allow = self.settings.allow_hosts
        check_url(url, allow)
        cache = self._cache_dir_for(url)
        info_path = cache / "info.json"
        if info_path.exists():
            cached = json.loads(info_path.read_text())
            media = Path(cached["media_path"])
            if media.exists():
                log.info("using cached download of %s", url)
                return SourceInfo(**cached)

        tmp = cache.with_name(cache.name + ".part")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)

        cap = self.settings.max_download_bytes

        def hook(status: dict[str, Any]) -> None:
            # Called after every block yt-dlp writes; for a fragmented stream, with all fragments' bytes.
            if (status.get("downloaded_bytes") or 0) > cap:
                raise TooLarge(f"refused {url}: larger than the limit of {cap / 1e6:.0f} MB")
            if progress is None or status.get("status") != "downloading":
                return
            total = status.get("total_bytes") or status.get("total_bytes_estimate")
            if total:
                progress(min(1.0, status.get("downloaded_bytes", 0) / total), "download")

        rejected: list[str] = []
        try:
            with guarded_youtube_dl(self._ydl_params(tmp, [hook], rejected), allow, max_body_bytes=cap) as ydl:
                raw = ydl.extract_info(url, download=True)
                info = ydl.sanitize_info(raw) if raw else None
        except FirstseenError:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        except Exception as exc:  # yt-dlp wraps everything in DownloadError
            shutil.rmtree(tmp, ignore_errors=True)
            release_responses(exc)
            refusal = unwrap_refusal(exc)
            if refusal is not None:
                raise refusal from None
            log.info("yt-dlp could not fetch %s: %s", url, clean_message(exc))
            raise FetchFailed(plain_fetch_error(url, exc)) from None

        if rejected:
            shutil.rmtree(tmp, ignore_errors=True)
            raise TooLarge(f"refused {url}: {rejected[0]}")
        if not info:
            shutil.rmtree(tmp, ignore_errors=True)
            raise FetchFailed(f"no video found at {url}")
        if info.get("_type") == "playlist":
            entries = [e for e in info.get("entries") or [] if e]
            if not entries:
                shutil.rmtree(tmp, ignore_errors=True)
                raise FetchFailed(f"no video found at {url}")
            info = entries[0]
        media_files = [p for p in tmp.iterdir() if p.name.startswith("media.") and
                       not p.name.endswith((".part", ".ytdl"))]
        if not media_files:
            shutil.rmtree(tmp, ignore_errors=True)
            raise TooLarge(f"refused {url}: larger than the limit of {cap / 1e6:.0f} MB or no downloadable video")
        if sum(p.stat().st_size for p in tmp.iterdir() if p.is_file()) > cap:  # whatever the download said
            shutil.rmtree(tmp, ignore_errors=True)
            raise TooLarge(f"refused {url}: larger than the limit of {cap / 1e6:.0f} MB")
        shutil.rmtree(cache, ignore_errors=True)
        tmp.rename(cache)
        media = cache / media_files[0].name
        source = SourceInfo(
            input=url,
            media_path=str(media),
            sha256=file_sha256(media),
            size_bytes=media.stat().st_size,
            extractor=info.get("extractor_key") or info.get("extractor"),
            video_id=str(info["id"]) if info.get("id") is not None else None,
            webpage_url=info.get("webpage_url") or url,
            title=info.get("title"),
            uploader=info.get("uploader"),
            channel=info.get("channel"),
            upload_date=info.get("upload_date"),
            timestamp=info.get("timestamp"),
            description=info.get("description"),
            duration=info.get("duration"),
        )
        info_path.write_text(json.dumps(source.to_dict()))
        return source

    def drop_cached(self, url: str) -> None:
        """Forget a cached download (crawls keep fingerprints, not media)."""
        shutil.rmtree(self._cache_dir_for(url), ignore_errors=True)

    def fetch(self, source: str, progress: ProgressFn | None = None) -> SourceInfo:
        if not is_url(source):
            return self._local(source)
        return self._fetch_url(source, progress)  # starts with the link-safety check (schemes, hosts)
