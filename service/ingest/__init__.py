"""Ingest: link safety and downloading (first stage of the data flow)."""

from service.ingest.downloader import Downloader, LocalOrYtDlpDownloader, ProgressFn, is_url

__all__ = ["Downloader", "LocalOrYtDlpDownloader", "ProgressFn", "is_url"]
