"""Verdict: claims against the earliest known upload of the matched footage.

Last stage of the data flow (align → **verdict** → Report). The rules, in order:

* ``recycled``: a matching upload was certainly online before the claimed date
  (date uncertainty included: a yt-dlp ``upload_date`` is ±1 day), by a date the
  archive can stand behind: an editor's, a known platform's or a registered
  crawl source's (``service.dates.TRUSTED_DATE_ORIGINS``);
* ``misattributed``: the footage was recorded by the archive's editors at
  another place or event than claimed (the earliest curated uploads);
* ``seen_before``: matches exist and contradict no claim (or no claim given);
* ``no_prior_match``: nothing in the archive shows this footage -- "not in our
  archive", with how much archive was searched; never "new".

Places are compared as places (``service.places``, a GeoNames gazetteer):
"Bruxelles" is Brussels, "Juba" lies in South Sudan, and a name the gazetteer
cannot settle is compared as text with that said. A claimed date still to come
is refused (``BadInput``); one earlier than every archived copy gets a sentence
saying the archive cannot speak to it.

A date a web page merely claims (a reader's remembered check of a page whose
JSON-LD says 2001) is shown with its origin spelled out, never a ``recycled``
on its own, and never picked as the earliest upload over a date the archive
stands behind; the place or event a reader claimed is never the footage's
"recorded" place. Ties go to curated items: readers' remembered checks never
outrank curated provenance.

A match that rests on a static scene (nothing moves on either side) shows the
same place, not the same recording: on its own it makes ``seen_before`` with
that said, never ``recycled``. A match under ``SHORT_MATCH_S`` says so.

When the caller gives no claimed date, the checked upload's own date (from its
site's metadata) is the implicit claim: an upload presents itself as new.

What each medium shows is worded from ``Match.signals`` and ``Match.differs``
alone (``media_words``), so a signal type only declares its ``medium``:
"Audio matches “X” at 3.0–12.5 s (archive 40.0–49.5 s). Matching audio over
different video." Nothing is added where the video alone was compared.
"""

from __future__ import annotations

from collections.abc import Sequence

from service.dates import (
    KnownDate,
    curated_first,
    date_trusted,
    humanize_days,
    item_date,
    origin_words,
    refuse_future,
    sort_by_date,
    source_date,
)
from service.models import ArchiveExtent, ArchiveItem, Claims, Match, Medium, Segment, SourceInfo, Verdict
from service.places import PlaceComparison, compare

__all__ = ["MEDIA_SENTENCES", "VERDICT_WORDS", "decide", "footage_history", "media_words"]

# Each verdict in a few words, as the web page's badge and the PDF's heading say it.
VERDICT_WORDS = {
    "recycled": "Recycled footage",
    "misattributed": "Misattributed footage",
    "seen_before": "Seen before",
    "no_prior_match": "Not in our archive",  # a miss, never an all-clear
}

def _date_of(match: Match) -> KnownDate | None:
    return item_date(match.item)


def _who(item: ArchiveItem) -> str:
    bits = [b for b in (item.uploader, item.platform) if b]
    return f" by {bits[0]}" + (f" on {bits[1]}" if len(bits) > 1 else "") if bits else ""


def _claim(item: ArchiveItem) -> str | None:
    """The place (else event) an upload came with: its own claim, else what an editor recorded."""
    return item.claimed_location or item.claimed_event or item.location or item.event


def _when(item: ArchiveItem) -> str:
    d = item_date(item)
    # An observed upload with no site date (a local file) is placed when it was checked.
    if d is None:
        return f"(no upload date; checked {item.added_at[:10]})"
    return d.text if date_trusted(item) else f"{d.text} (a web page's claim, not verified)"


def history(items: Sequence[ArchiveItem]) -> str:
    """How the footage's claims changed: "first seen D by X as 'Idlib'; re-posted D2 as 'Fallujah'"."""
    ordered = sort_by_date(items)
    if len(ordered) < 2 or item_date(ordered[0]) is None:
        return ""
    first = ordered[0]
    claim = _claim(first)
    parts = [f"first seen {_when(first)}{_who(first)}" + (f" as {claim!r}" if claim else "")]
    for item in ordered[1:]:
        c = _claim(item)
        if c and (claim is None or not _same_place(c, claim)):
            parts.append(f"re-posted {_when(item)}{_who(item)} as {c!r}")
            claim = c
    return "; ".join(parts) + "." if len(parts) > 1 else ""


def _same_place(a: str, b: str) -> bool:
    """Not a contradiction: the same place (any spelling), one within the other, or text the gazetteer cannot settle."""
    return compare(a, b).relation != "different"


def _same_event(a: str, b: str) -> bool:
    x, y = a.casefold().strip(), b.casefold().strip()
    return x == y or x in y or y in x


def not_in_archive(searched: ArchiveExtent | None) -> str:
    """The explanation of a miss: what was searched, and that a miss does not make footage new."""
    extent = f" ({searched.text})" if searched is not None else ""
    return (f"Not in our archive: nothing in it{extent} shows this footage. That does not make the footage new "
            "or genuine: it may be online elsewhere, or older than anything archived.")


def _label(match: Match) -> str:
    title = match.item.title or f"archive item {match.item.id}"
    where = f" ({match.item.location})" if match.item.location else ""
    return f"“{title}”{where}"


# Matches whose media are worded in the explanation, best first.
MEDIA_SENTENCES = 3


def _spans(segments: Sequence[Segment]) -> str:
    def span(a: float, b: float) -> str:
        return f"{a:.1f}–{b:.1f} s"

    return ", ".join(f"{span(s.query_start, s.query_end)} (archive {span(s.archive_start, s.archive_end)})"
                     for s in sorted(segments, key=lambda s: s.query_start))


def _media_list(media: Sequence[Medium]) -> str:
    return " and ".join(media)


def media_words(match: Match) -> str:
    """What each medium of one match shows, in words: where each matching medium matches, and which
    medium differs ("Matching audio over different video."); "" where only the video was compared."""
    matched, differs = match.media, match.differs
    if set(matched) <= {"video"} and not differs:
        return ""
    parts = []
    for medium in matched:
        own = next(s for s in match.signals if s.medium == medium)
        parts.append(f"{medium} matches {_label(match)} at {_spans(own.segments)}")
    text = _sentence("; ".join(parts)) if parts else ""
    if differs and matched:
        joint = "over" if "video" in differs else "with"
        text += f" Matching {_media_list(matched)} {joint} different {_media_list(differs)}."
    return text.strip()


def _strong(match: Match) -> bool:
    """More than a static scene: the same recording, not only the same place. A static video scene is
    strong when another signal (the sound) matches on its own evidence."""
    return (match.evidence is None or match.evidence.basis != "static_scene"
            or any(s.evidence.basis != "static_scene" for s in match.signals))


def decide(matches: Sequence[Match], claims: Claims, source: SourceInfo,
           footage: Sequence[ArchiveItem] = (), searched: ArchiveExtent | None = None,
           ) -> tuple[Verdict, Match | None, str]:
    """(verdict, earliest known upload, one-paragraph explanation).

    ``footage`` holds every upload in the matched footage's clusters: an upload
    that does not match the query directly but shares footage with one that
    does still counts as an earlier copy.
    """
    if claims.date:
        refuse_future(claims.date)  # a date still to come is refused, match or not
    if not matches:
        return "no_prior_match", None, not_in_archive(searched)
    strong = [m for m in matches if _strong(m)]
    if not strong:
        # The same place, but nothing moves: another recording of it would match as well.
        best = matches[0]
        return "seen_before", best, (
            f"The same place appears in archived footage ({_label(best)}), but nothing moves in the matched "
            "seconds: this match rests on a static scene and cannot tell this recording from another one "
            "of the same place. It is not evidence that this footage is old.")
    matches = strong
    direct = {m.item.id for m in matches}
    via_cluster = [
        Match(item=i, score=0.0, coverage=0.0, flipped=False, transform="same footage", segments=())
        for i in footage if i.id not in direct
    ]
    verdict, earliest, text = _decide([*matches, *via_cluster], claims, source)
    if earliest is not None and earliest.evidence is not None and earliest.evidence.short:
        # Here, not at the top: align imports the decoders, which sorting a footage's uploads never needs.
        from service.match.align import SHORT_MATCH_S

        text += f" The match rests on under {SHORT_MATCH_S:.0f} s of footage: check the frames before relying on it."
    for words in [w for m in matches if (w := media_words(m))][:MEDIA_SENTENCES]:
        text += f" {words}"
    return verdict, earliest, text


def footage_history(matches: Sequence[Match], footage: Sequence[ArchiveItem] = ()) -> str:
    """The story of a check's matched footage (``history`` over its uploads and the direct matches),
    the report's ``history`` beside ``decide``'s explanation: "" when there is none to tell."""
    strong = [m for m in matches if _strong(m)]
    if not strong:  # a static scene says nothing of when footage was first seen (decide says why)
        return ""
    return history([*footage, *(m.item for m in strong if m.item not in footage)])


def _dated(matches: Sequence[Match], trusted: bool) -> list[tuple[KnownDate, Match]]:
    """(date, match) of the matches whose date is (or is not) trusted, oldest first, curated first on a tie."""
    found = [(d, m) for m in matches if (d := _date_of(m)) is not None and date_trusted(m.item) == trusted]
    return sorted(found, key=lambda dm: (dm[0].earliest, dm[0].latest, curated_first(dm[1].item)))


def _decide(matches: Sequence[Match], claims: Claims, source: SourceInfo) -> tuple[Verdict, Match | None, str]:
    trusted = _dated(matches, trusted=True)
    claimed_only = _dated(matches, trusted=False)
    curated = [m for m in matches if m.item.kind == "curated"]
    earliest_date = trusted[0][0] if trusted else None
    # Never a page's claim over what the archive stands behind: a trusted date, else curated provenance.
    if trusted:
        earliest = trusted[0][1]
    elif curated:
        earliest = curated[0]
    else:
        earliest = claimed_only[0][1] if claimed_only else matches[0]

    claimed: KnownDate | None = None
    claim_origin = "the claimed date"
    if claims.date:
        claimed = claims.date
    else:
        claimed = source_date(source)
        claim_origin = "this upload's own date"

    if claimed is not None and earliest_date is not None and earliest_date.before(claimed):
        gap = humanize_days(earliest_date.days_before(claimed))
        text = (f"This footage was online on {earliest_date.text}, {gap} before {claim_origin} ({claimed.text}): "
                f"earliest known upload {_label(earliest)}. That date is {_origin(earliest)}.")
        place = earliest.item.location if earliest.item.kind == "curated" else None
        if claims.location and place:
            where = compare(claims.location, place)
            if where.contradicts:
                text += f" It was then recorded as {place!r}, not {claims.location!r}: {where.text}."
        return "recycled", earliest, text

    # Only editors record where and what footage shows; an observed upload's place is what a reader claimed.
    curated_dated = [(d, m) for d, m in trusted if m.item.kind == "curated"]
    if curated_dated:
        first = curated_dated[0][0]
        reference = [m for d, m in curated_dated if d.earliest == first.earliest]
    else:
        first, reference = None, curated[:1]
    too_early = _before_archive(claimed if claims.date else None, earliest_date)
    places: list[PlaceComparison] = []
    if claims.location:
        places = [compare(claims.location, r) for m in reference if (r := m.item.location)]
    for field, claim in (("location", claims.location), ("event", claims.event)):
        recorded = [getattr(m.item, field) for m in reference if getattr(m.item, field)]
        if field == "location":
            contradicted = bool(places) and all(p.contradicts for p in places)
        else:
            contradicted = bool(claim and recorded) and not any(_same_event(str(claim), r) for r in recorded)
        if claim and recorded and contradicted:
            when = f" on {first.text}" if first else ""
            verb = "first recorded" if trusted and reference[0] is trusted[0][1] else "recorded by an editor"
            text = (f"This footage was {verb}{when} as {field} {recorded[0]!r}, "
                    f"not {claim!r} as claimed: earliest known upload {_label(reference[0])}.")
            if field == "location":
                text += f" {_sentence(places[0].text)}"
            return "misattributed", reference[0], text + too_early

    if earliest_date is None:
        text = (f"This footage matches {len(matches)} archived upload(s) with no date the archive can vouch for; "
                f"best: {_label(earliest)}.")
    elif claimed is not None and not claimed.before(earliest_date):
        text = (f"Seen before: online on {earliest_date.text}, too close to {claim_origin} ({claimed.text}) "
                f"to call it older: {_label(earliest)}. That date is {_origin(earliest)}.")
    else:
        text = (f"Seen before: earliest known upload {earliest_date.text}, {_label(earliest)}. "
                f"That date is {_origin(earliest)}.")
    unverified = [(d, m) for d, m in claimed_only if earliest_date is None or d.before(earliest_date)]
    if unverified:
        d, m = unverified[0]
        text += (f" A web page claims it was uploaded on {d.text} ({_label(m)}); that date is not verified, "
                 "so it does not show this footage is older than claimed.")
    if places:
        text += f" {_sentence(places[0].text)}"
    return "seen_before", earliest, text + too_early


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _before_archive(claimed: KnownDate | None, earliest: KnownDate | None) -> str:
    """A claimed date earlier than every archived copy: the archive has nothing to say about it."""
    if claimed is None or earliest is None or not claimed.before(earliest):
        return ""
    return (f" The claimed date ({claimed.text}) is earlier than every archived copy (the earliest from "
            f"{earliest.text}): the archive cannot speak to whether this footage existed then.")


def _origin(match: Match) -> str:
    return origin_words(match.item.date_origin, match.item.platform)
