"""Link safety: never fetch from an address inside the network we run in (SSRF guard).

Part of ingest (link → **ingest** → decode …). A service that downloads whatever
link it is given can be pointed at cloud metadata (169.254.169.254), a database
port on loopback or a router page. Two layers keep it out:

1. ``check_url`` before anything is fetched: only http(s); the host (names,
   and every IPv4 spelling — decimal ``2130706433``, octal ``0177.1``, hex
   ``0x7f.1`` — and IPv6, including IPv4-mapped, 6to4 and NAT64 forms) is
   resolved and every address must be public, gives a clear one-line refusal.
2. ``guarded_youtube_dl``: a ``YoutubeDL`` whose only request handler is
   yt-dlp's urllib one, and whose every socket (the first request, each
   redirect, each media request) goes through ``_guarded_create_connection``,
   which resolves the host, refuses non-public addresses and connects to the
   vetted address itself — so a DNS answer cannot change between check and
   connect (rebinding).

3. No outside program: yt-dlp hands what its own downloaders cannot do to
   ffmpeg (an HLS stream with an unknown ``#EXT-X-KEY`` method, live streams,
   RTMP, partial downloads), to rtmpdump, aria2c or curl, and runs ffmpeg again
   to "fix up" or merge what it downloaded. Those programs open their own
   sockets, which no guard inside this process sees, and ffmpeg follows
   playlists to any address or local file. ``NO_PROGRAMS`` switches every such
   path off in the params, and ``_install_program_guard`` makes yt-dlp's
   external downloaders and its ``Popen`` refuse outright, so a link that
   could only be fetched by a program fails with one ``FetchRefused`` line.

4. Bounded bodies: a response need not say how long it is (HTTP/1.0 ended by
   closing the connection, chunked), and yt-dlp inflates a ``Content-Encoding:
   gzip`` body in memory in one go, whatever it asked for. With
   ``max_body_bytes`` set, every body yt-dlp reads — a page, a playlist, the
   media — is read and inflated in bounded steps, and one byte past the limit
   raises ``TooLarge``, so neither the disk nor the memory holds more than the
   limit. (The downloader also caps the bytes of all fragments together.)

``Settings.allow_hosts`` lists hostnames or CIDR networks that are exempt, for
tests on loopback and private deployments.
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import ipaddress
import logging
import socket
import sys
import urllib.response
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import urlsplit

from service.errors import BadInput, FetchFailed, FetchRefused, TooLarge

__all__ = ["NO_PROGRAMS", "check_url", "exception_chain", "guarded_youtube_dl", "LinkPolicy", "release_responses",
           "unwrap_refusal"]

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[IPAddress]]

ALLOWED_SCHEMES = ("http", "https")
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known prefix: last 32 bits are an IPv4 address
METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"),
            ipaddress.ip_address("100.100.100.200")}

# Where yt-dlp is told ffmpeg lives: a path that cannot exist (/dev/null is no directory), so it
# concludes that neither ffmpeg nor ffprobe is installed, and does not even start them to ask.
NO_FFMPEG = "/dev/null/no-ffmpeg"


def _whole_video(info: dict[str, Any], ydl: Any) -> list[dict[str, Any]]:
    """yt-dlp's ``download_ranges`` that asks for no section (sections are cut by ffmpeg)."""
    return [{}]


# yt-dlp params that keep every download inside yt-dlp's own (guarded) downloaders. They override
# whatever the caller passed; the program guard below refuses anything they miss.
NO_PROGRAMS: dict[str, Any] = {
    "external_downloader": {"default": "native"},  # no aria2c/curl/wget/ffmpeg for any protocol
    "hls_prefer_native": True,
    "ffmpeg_location": NO_FFMPEG,
    "fixup": "never",  # fixups run ffmpeg over the downloaded file, which may itself be a playlist
    "postprocessors": [],  # merging, remuxing, embedding, --exec: all programs
    "allow_unplayable_formats": False,
    "download_ranges": _whole_video,  # partial downloads are done by ffmpeg
    "check_formats": False,  # format checks download with yt-dlp's default params, not these
    "concurrent_fragment_downloads": 1,  # helper threads would run outside the link policy's context
    "js_runtimes": {},  # no deno/node/bun for site JavaScript
    "cookiesfrombrowser": None,  # reading a browser's keyring starts programs
    "usenetrc": False,
    "netrc_cmd": None,  # a shell command
    "bidi_workaround": False,  # pipes output through fribidi
    "verbose": False,  # the debug header starts each program to print its version
    "enable_file_urls": False,
}


def system_resolver(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchFailed(f"cannot resolve host {host}: {getattr(exc, 'strerror', None) or exc}") from None
    out: list[IPAddress] = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if ip not in out:
            out.append(ip)
    if not out:
        raise FetchFailed(f"cannot resolve host {host}")
    return out


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address a host string denotes by itself, in any spelling browsers and libc accept."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    # inet_aton accepts the legacy forms: 2130706433, 0177.0.0.1, 0x7f.1, 127.1
    if host and all(part for part in host.split(".")) and all(c in "0123456789abcdefxABCDEFX." for c in host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def why_not_public(ip: IPAddress) -> str | None:
    """None for a public unicast address, else what kind of address it is."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (
            ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in NAT64 else None)
        if embedded is not None:
            reason = why_not_public(embedded)
            return f"{reason} (inside IPv6 {ip})" if reason else None
        if ip.teredo:
            return "a Teredo tunnel address"
    if ip in METADATA:
        return "the cloud metadata address"
    for attr, label in (("is_loopback", "a loopback address"), ("is_link_local", "a link-local address"),
                        ("is_multicast", "a multicast address"), ("is_unspecified", "an unspecified address"),
                        ("is_private", "a private address"), ("is_reserved", "a reserved address")):
        if getattr(ip, attr):
            return label
    if not ip.is_global:
        return "a non-public (shared or special-purpose) address"
    return None


@dataclass(frozen=True)
class LinkPolicy:
    """Which hosts may be fetched: public addresses, plus the allow-list."""

    allow_hosts: tuple[str, ...] = ()
    resolver: Resolver = system_resolver

    @classmethod
    def of(cls, allow_hosts: Sequence[str] | LinkPolicy | None) -> LinkPolicy:
        if isinstance(allow_hosts, LinkPolicy):
            return allow_hosts
        return cls(tuple(h.strip().lower() for h in allow_hosts or () if h.strip()))

    def _networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        nets = []
        for entry in self.allow_hosts:
            with contextlib.suppress(ValueError):
                nets.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        return nets

    def vet(self, host: str, port: int, url: str) -> list[IPAddress]:
        """Addresses of ``host`` that may be connected to; FetchRefused if any is off-limits."""
        host = host.lower().rstrip(".")
        if not host:
            raise FetchRefused(f"refused {url}: the link has no host")
        literal = parse_ip_literal(host)
        addresses = [literal] if literal is not None else self.resolver(host, port)
        if host in self.allow_hosts:
            return addresses
        nets = self._networks()
        for ip in addresses:
            if any(ip.version == net.version and ip in net for net in nets):
                continue
            reason = why_not_public(ip)
            if reason:
                shown = host if literal is None else str(ip)
                via = f" ({host} resolves to {ip})" if literal is None else ""
                raise FetchRefused(f"refused {url}: {shown} is {reason}{via}; only public addresses are fetched")
        return addresses


def check_url(url: str, allow_hosts: Sequence[str] | LinkPolicy | None = ()) -> list[IPAddress]:
    """Refuse a link before any connection: wrong scheme, or a host that is not public."""
    policy = LinkPolicy.of(allow_hosts)
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise FetchRefused(f"refused {url}: not a valid link ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise FetchRefused(f"refused {url}: only http and https links are fetched, not {scheme or 'this'}:")
    return policy.vet(parts.hostname or "", port or (443 if scheme == "https" else 80), url)


# -- the socket-level guard inside yt-dlp ------------------------------------------------------

_ACTIVE: contextvars.ContextVar[LinkPolicy | None] = contextvars.ContextVar("firstseen_link_policy", default=None)
# Files and HTTP responses yt-dlp opened in this guarded session (see _install_file_tracking).
_OPEN_FILES: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar("firstseen_ydl_files", default=None)
# The most bytes one response body may hold, inflated (see _install_body_limit); None: no limit.
_BODY_LIMIT: contextvars.ContextVar[int | None] = contextvars.ContextVar("firstseen_body_limit", default=None)
_installed = False


def _install_program_guard() -> None:
    """Make yt-dlp unable to start any program in this process.

    Two places, because yt-dlp does not always ask before delegating: ``HlsFD``
    builds an ``FFmpegFD`` itself when a playlist has features it cannot handle.

    * every external downloader (``ExternalFD``: ffmpeg, aria2c, curl, wget,
      axel, httpie; and ``RtmpFD``: rtmpdump) refuses to download, naming the
      link and the program, before it looks for the program;
    * yt-dlp's ``Popen``, through which it starts every program (downloaders,
      postprocessors, version probes, JavaScript runtimes, keyrings, netrc
      commands), refuses to start one.

    Unconditional, not tied to the link policy's context: yt-dlp's helper
    threads do not carry that context, and firstseen has no use for a program
    started by yt-dlp anywhere.
    """
    from yt_dlp.downloader.external import ExternalFD
    from yt_dlp.downloader.rtmp import RtmpFD
    from yt_dlp.utils import _utils

    def refuse_download(fd: Any, filename: str, info_dict: dict[str, Any]) -> NoReturn:
        link = info_dict.get("webpage_url") or info_dict.get("original_url") or info_dict.get("url") or "this link"
        program = fd.get_basename() if isinstance(fd, ExternalFD) else "rtmpdump"
        raise FetchRefused(f"refused {link}: this video can only be downloaded by {program}, an outside "
                           "program whose connections would bypass the link guard")

    def refuse_program(proc: Any, args: Any, *rest: Any, **kwargs: Any) -> NoReturn:
        program = (args if isinstance(args, str) else next(iter(args), "a program")) if args else "a program"
        log.warning("refused to let yt-dlp start %s", program)
        raise FetchRefused(f"refused: fetching this link needs the program {program}, "
                           "and firstseen starts no program for a link")

    ExternalFD.real_download = refuse_download
    RtmpFD.real_download = refuse_download
    _utils.Popen.__init__ = refuse_program


def _install_file_tracking() -> None:
    """Remember the files and responses yt-dlp opens, so that the guarded session can close them.

    A refusal raised from a socket inside a fragment download, or a byte limit
    reached in the middle of one, is no error yt-dlp expects, so it propagates
    without yt-dlp closing the part file it writes or the response it reads.
    """
    from yt_dlp.downloader.common import FileDownloader
    from yt_dlp.networking._urllib import UrllibResponseAdapter

    original = FileDownloader.sanitize_open
    original_response = UrllibResponseAdapter.__init__

    def tracked_response(adapter: Any, *args: Any, **kwargs: Any) -> None:
        original_response(adapter, *args, **kwargs)
        opened = _OPEN_FILES.get()
        if opened is not None:
            opened.append(adapter)

    def tracked_open(fd: Any, filename: str, open_mode: str) -> tuple[Any, str]:
        stream, name = original(fd, filename, open_mode)
        opened = _OPEN_FILES.get()
        if opened is not None and stream not in (sys.stdout, sys.stdout.buffer):
            opened.append(stream)
        return stream, name

    FileDownloader.sanitize_open = tracked_open
    UrllibResponseAdapter.__init__ = tracked_response


def _too_large(url: str, limit: int) -> TooLarge:
    return TooLarge(f"refused {url}: larger than the limit of {limit / 1e6:.0f} MB")


def _inflate(data: bytes, encoding: str, limit: int, url: str) -> bytes:
    """``data`` decoded from gzip or deflate, refused as soon as it would pass ``limit`` bytes."""
    if encoding == "gzip":
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        out = inflater.decompress(data, limit + 1)
    else:  # raw DEFLATE by the RFC, zlib-wrapped in practice: yt-dlp tries both, and so do we
        try:
            inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            out = inflater.decompress(data, limit + 1)
        except zlib.error:
            inflater = zlib.decompressobj(zlib.MAX_WBITS)
            out = inflater.decompress(data, limit + 1)
    if len(out) > limit or inflater.unconsumed_tail:
        raise _too_large(url, limit)
    return out  # like yt-dlp: one gzip member; whatever follows it is ignored


def _install_body_limit() -> None:
    """Read and inflate every response body yt-dlp sees in bounded steps (layer 4 of the docstring).

    Two places: ``HTTPHandler.http_response``, where yt-dlp inflated a gzip or deflate body whole
    (``resp.read()`` then ``zlib.decompress``), now reads at most the limit and inflates at most the
    limit; and ``UrllibResponseAdapter.read``, through which every page, playlist and media block is
    read, now never returns a byte past the limit, whether the body said its length or not.
    Encodings other than gzip and deflate are left as they arrive (yt-dlp decodes ``br`` only with
    brotli installed, which firstseen does not depend on).
    """
    from yt_dlp.networking import _urllib

    original_response = _urllib.HTTPHandler.http_response
    original_read = _urllib.UrllibResponseAdapter.read

    def bounded_response(handler: Any, req: Any, resp: Any) -> Any:
        limit = _BODY_LIMIT.get()
        encodings = [e.strip() for e in reversed(resp.headers.get("Content-encoding", "").split(","))]
        if limit is None or not any(e in ("gzip", "deflate") for e in encodings):
            return original_response(handler, req, resp)
        url = req.get_full_url()
        body: bytes = resp.read(limit + 1)
        if len(body) > limit:
            resp.close()
            raise _too_large(url, limit)
        for encoding in encodings:
            if encoding in ("gzip", "deflate") and body:
                body = _inflate(body, encoding, limit, url)
        decoded = urllib.response.addinfourl(io.BytesIO(body), resp.headers, resp.url, resp.code)
        decoded.msg = resp.msg  # type: ignore[attr-defined]  # as yt-dlp's own decoded responses carry it
        return decoded

    def bounded_read(adapter: Any, amt: int | None = None) -> bytes:
        limit = _BODY_LIMIT.get()
        if limit is None:
            return original_read(adapter, amt)  # type: ignore[no-any-return]
        if amt is None or amt < 0:  # "all of it", in steps so that the limit is checked on the way
            parts = []
            while chunk := bounded_read(adapter, 1 << 20):
                parts.append(chunk)
            return b"".join(parts)
        seen = getattr(adapter, "_firstseen_body_bytes", 0)
        data: bytes = original_read(adapter, min(amt, limit + 1 - seen))
        adapter._firstseen_body_bytes = seen + len(data)
        if seen + len(data) > limit:
            adapter.close()
            raise _too_large(adapter.url, limit)
        return data

    _urllib.HTTPHandler.http_response = bounded_response
    _urllib.HTTPHandler.https_response = bounded_response
    _urllib.UrllibResponseAdapter.read = bounded_read


def _install() -> None:
    """Route yt-dlp's urllib connections through the guard and forbid its programs (once per process)."""
    global _installed
    if _installed:
        return
    _install_program_guard()
    _install_file_tracking()
    _install_body_limit()
    from yt_dlp.networking import _urllib

    original = _urllib.create_connection

    def _guarded_create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        policy = _ACTIVE.get()
        if policy is None:
            return original(address, *args, **kwargs)  # type: ignore[no-any-return]
        host, port = address
        vetted = policy.vet(str(host), int(port), f"{host}:{port}")
        last: OSError | None = None
        for ip in vetted:
            try:
                return original((str(ip), port), *args, **kwargs)  # type: ignore[no-any-return]
            except OSError as exc:
                last = exc
        raise last or OSError(f"cannot connect to {host}")

    _urllib.create_connection = _guarded_create_connection
    _installed = True


@contextlib.contextmanager
def guarded_youtube_dl(params: dict[str, Any], allow_hosts: Sequence[str] | LinkPolicy | None = (),
                       max_body_bytes: int | None = None) -> Iterator[Any]:
    """A YoutubeDL whose every connection (redirects included) passes the link policy, which starts no
    program, and which reads no response body past ``max_body_bytes`` (inflated)."""
    from yt_dlp import YoutubeDL
    from yt_dlp.networking._urllib import UrllibRH
    from yt_dlp.postprocessor.ffmpeg import FFmpegPostProcessor

    _install()

    class GuardedYoutubeDL(YoutubeDL):  # type: ignore[misc]
        def build_request_director(self, handlers: Any, preferences: Any = None) -> Any:
            # Only the urllib handler: its sockets go through the guard; others (requests,
            # curl_cffi, websockets) open connections we cannot see.
            return super().build_request_director([h for h in handlers if h is UrllibRH], preferences)

    # ``FFmpegFD.available()`` asks yt-dlp's own context variable, not the params, where ffmpeg is;
    # told "nowhere", HlsFD decrypts AES-128 itself (its key request passes the guard) instead of
    # delegating the whole stream to ffmpeg.
    ffmpeg_location: contextvars.ContextVar[str | None] = FFmpegPostProcessor._ffmpeg_location
    opened: list[Any] = []
    token = _ACTIVE.set(LinkPolicy.of(allow_hosts))
    no_ffmpeg = ffmpeg_location.set(NO_FFMPEG)
    files = _OPEN_FILES.set(opened)
    body_limit = _BODY_LIMIT.set(max_body_bytes)
    try:
        with GuardedYoutubeDL({**params, **NO_PROGRAMS}) as ydl:
            yield ydl
    finally:
        for stream in opened:
            with contextlib.suppress(Exception):
                stream.close()
        _BODY_LIMIT.reset(body_limit)
        _OPEN_FILES.reset(files)
        ffmpeg_location.reset(no_ffmpeg)
        _ACTIVE.reset(token)


def exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """Every exception yt-dlp wrapped inside ``exc`` (causes, contexts, exc_info, handler errors)."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        cur = stack.pop()
        if cur is None or id(cur) in seen:
            continue
        seen.add(id(cur))
        yield cur
        exc_info = getattr(cur, "exc_info", None)
        if isinstance(exc_info, tuple) and len(exc_info) > 1 and isinstance(exc_info[1], BaseException):
            stack.append(exc_info[1])
        for attr in ("reason", "cause", "__cause__", "__context__"):
            nxt = getattr(cur, attr, None)
            if isinstance(nxt, BaseException):
                stack.append(nxt)
        # yt-dlp's NoSupportingHandlers keeps what each request handler raised in lists
        for attr in ("unexpected_errors", "unsupported_errors"):
            stack.extend(e for e in getattr(cur, attr, None) or () if isinstance(e, BaseException))


def unwrap_refusal(exc: BaseException) -> BadInput | None:
    """The FetchRefused or TooLarge that yt-dlp wrapped (DownloadError, URLError …), if there is one."""
    return next((e for e in exception_chain(exc) if isinstance(e, FetchRefused | TooLarge)), None)


def release_responses(exc: BaseException) -> None:
    """Close HTTP responses that yt-dlp's errors hold on to (a 404 keeps its socket open otherwise)."""
    for e in exception_chain(exc):
        response = getattr(e, "response", None)
        with contextlib.suppress(Exception):
            if response is not None and hasattr(response, "close"):
                response.close()
