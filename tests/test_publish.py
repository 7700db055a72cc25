"""Publishing a check, in a real Chromium at desktop and phone width: a miss offers nothing to publish; an editor
fills in a recycled check's ClaimReview and MediaReview, copies them, and they carry every field the guidelines ask."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Media, database_for_test
from tests.live_app import LiveApp, serve

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
ORG = {"review_org_name": "Desk Check", "review_org_url": "https://desk.example/",
       "review_org_logo": "https://desk.example/logo.png"}

# Google's ClaimReview guidelines (developers.google.com/search/docs/appearance/structured-data/factcheck,
# "Structured data type definitions"): what each type must and should carry.
CLAIMREVIEW_REQUIRED = ["claimReviewed", "reviewRating", "url"]
CLAIMREVIEW_RECOMMENDED = ["author", "datePublished", "itemReviewed"]
CLAIM_RECOMMENDED = ["appearance", "author", "datePublished", "firstAppearance"]
RATING_REQUIRED = ["alternateName"]
RATING_RECOMMENDED = ["bestRating", "name", "ratingValue", "worstRating"]
ORGANIZATION_FIELDS = ["name", "url"]  # the author: the organisation publishing the fact check
# Google's MediaReview guidance for fact-checkers (schema.org MediaReview, MediaReviewItem): required and
# recommended fields of the review, its item and each appearance of the media.
MEDIAREVIEW_REQUIRED = ["author", "datePublished", "itemReviewed", "mediaAuthenticityCategory",
                        "originalMediaContextDescription", "url"]
MEDIAREVIEW_RECOMMENDED = ["originalMediaLink"]
MEDIAREVIEWITEM_REQUIRED = ["mediaItemAppearance"]
MEDIAREVIEWITEM_RECOMMENDED = ["creator"]
APPEARANCE_FIELDS = ["@type", "contentUrl"]
MEDIA_CATEGORIES = {"OriginalMediaContent", "DecontextualizedContent", "EditedOrCroppedContent",
                    "TransformedContent", "StagedContent", "SatireOrParodyContent", "AuthenticContent"}

EDITOR_INPUT = {
    "article_url": "https://desk.example/2021/03/kyiv-strike-video-is-from-2018",
    "claim_text": "Video shows a strike in Kyiv on 11 March 2021",
    "claim_author": 'Ana "</script><img src=x onerror=alert(1)>" B.',  # pasted from a profile: hostile is normal
    "claim_url": "https://social.example/p/123",
    "claim_date": "2021-03-11",
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, media: Media) -> Iterator[dict[str, Any]]:
    """One server with an archived original, a recycled check of an excerpt and a check that misses."""
    with database_for_test() as db, serve(tmp_path_factory.mktemp("publish-home"), db, **ORG) as live:
        with live.client("editor") as ed:
            r = ed.post("/api/v1/archive", params={"wait": 60},
                        files={"file": ("original.mp4", media.original.read_bytes())},
                        data={"title": "Convoy ambush", "published": "2018-03-01", "location": "Idlib",
                              "source_url": "https://example.org/v/1"})
            assert r.status_code == 201, r.text
            ids = {}
            for name, clip, claims in (("recycled", media.excerpt_240p, {"claimed_date": "2021-03-11",
                                                                         "claimed_location": "Kyiv"}),
                                       ("miss", media.unrelated, {})):
                r = ed.post("/api/v1/checks", files={"file": (f"{name}.mp4", clip.read_bytes())},
                            data={**claims, "remember": "false"})
                done = live.wait_job(ed, r.json()["status_url"])
                assert done["status"] == "done", done
                ids[name] = done["id"]
        yield {"live": live, **ids}


def _page(browser: object, live: LiveApp, viewport: str) -> Any:
    context = browser.new_context(viewport=VIEWPORTS[viewport])  # type: ignore[attr-defined]
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.url)
    page = context.new_page()
    page.goto(live.url + "/")
    page.fill("input[name=key]", live.keys["editor"])
    page.click("button[type=submit]")
    page.wait_for_selector("#check-form")
    return page


def _rgb(css: str) -> tuple[int, ...]:
    return tuple(int(v) for v in re.findall(r"\d+", css)[:3])


def _fits(page: Any, viewport: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= VIEWPORTS[viewport]["width"], f"the page scrolls sideways: {width} px"


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_miss_is_shown_neutral_with_what_was_searched_and_offers_no_review(world: dict[str, Any], browser: object,
                                                                            viewport: str) -> None:
    page = _page(browser, world["live"], viewport)
    page.goto(f"{world['live'].url}/checks/{world['miss']}")
    assert page.get_attribute(".badge", "data-verdict") == "no_prior_match"
    assert page.inner_text(".badge") == "Not in our archive"
    for selector, prop in ((".badge", "background-color"), ("#verdict", "border-top-color")):
        r, g, b = _rgb(page.eval_on_selector(selector, f"e => getComputedStyle(e).getPropertyValue('{prop}')"))
        assert max(r, g, b) - min(r, g, b) < 24, f"{selector} {prop} is coloured ({r}, {g}, {b}), not neutral"
    explanation = page.inner_text(".explanation")
    assert re.search(r"nothing in it \(1 item, 12 seconds of footage, the newest added \d{4}-\d{2}-\d{2}\)",
                     explanation), explanation
    assert "does not make the footage new" in explanation
    assert page.locator("#claimreview, #mediareview, #review-form").count() == 0
    assert page.locator('script[type="application/ld+json"]').count() == 0
    assert "not in our archive" in page.inner_text("#no-review")
    _fits(page, viewport)


def _fields(doc: dict[str, Any], names: list[str], what: str) -> None:
    for name in names:
        assert doc.get(name) not in (None, "", [], {}), f"{what} lacks {name}: {json.dumps(doc)[:300]}"


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_an_editor_fills_in_and_copies_a_recycled_checks_claimreview_and_mediareview(
        world: dict[str, Any], browser: object, viewport: str) -> None:
    live = world["live"]
    with live.client("editor") as ed:  # each viewport starts from a check nobody has filled in
        assert ed.put(f"/api/v1/checks/{world['recycled']}/review", json={}).status_code == 200
    page = _page(browser, live, viewport)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{live.url}/checks/{world['recycled']}")
    assert page.get_attribute(".badge", "data-verdict") == "recycled"
    assert "url" in page.inner_text("#claimreview-missing")  # no article yet: not publishable, and it says so

    for name, value in EDITOR_INPUT.items():
        page.fill(f"#review-form [name={name}]", value)
    page.click("#review-form button[type=submit]")
    page.wait_for_selector("#claimreview")
    assert page.locator("#claimreview-missing, #mediareview-missing, #claim-too-long").count() == 0

    claim_review = json.loads(page.input_value("#claimreview"))
    media_review = json.loads(page.input_value("#mediareview"))
    head = json.loads(page.eval_on_selector('script[type="application/ld+json"]', "e => e.textContent"))
    assert head == claim_review and not dialogs

    # ClaimReview, field by field against the guidelines
    assert claim_review["@context"] == "https://schema.org" and claim_review["@type"] == "ClaimReview"
    _fields(claim_review, CLAIMREVIEW_REQUIRED + CLAIMREVIEW_RECOMMENDED, "ClaimReview")
    _fields(claim_review["itemReviewed"], CLAIM_RECOMMENDED, "Claim")
    _fields(claim_review["reviewRating"], RATING_REQUIRED + RATING_RECOMMENDED, "Rating")
    _fields(claim_review["author"], ORGANIZATION_FIELDS, "author")
    assert claim_review["url"] == EDITOR_INPUT["article_url"]
    assert claim_review["claimReviewed"] == EDITOR_INPUT["claim_text"] and len(claim_review["claimReviewed"]) <= 75
    assert claim_review["author"] == {"@type": "Organization", "name": "Desk Check", "url": "https://desk.example/",
                                      "logo": {"@type": "ImageObject", "url": "https://desk.example/logo.png"}}
    rating = claim_review["reviewRating"]
    assert (rating["ratingValue"], rating["worstRating"], rating["bestRating"]) == (1, 1, 5)
    assert rating["alternateName"].startswith("False")
    claim = claim_review["itemReviewed"]
    assert claim["author"] == {"@type": "Person", "name": EDITOR_INPUT["claim_author"]}
    assert claim["datePublished"] == EDITOR_INPUT["claim_date"]  # when the claim was made
    assert claim["appearance"]["url"] == claim["firstAppearance"]["url"] == EDITOR_INPUT["claim_url"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", claim_review["datePublished"])

    # MediaReview, field by field
    assert media_review["@context"] == "https://schema.org" and media_review["@type"] == "MediaReview"
    _fields(media_review, MEDIAREVIEW_REQUIRED + MEDIAREVIEW_RECOMMENDED, "MediaReview")
    _fields(media_review["itemReviewed"], MEDIAREVIEWITEM_REQUIRED + MEDIAREVIEWITEM_RECOMMENDED, "MediaReviewItem")
    for appearance in media_review["itemReviewed"]["mediaItemAppearance"]:
        _fields(appearance, APPEARANCE_FIELDS, "mediaItemAppearance")
        assert appearance["contentUrl"] == EDITOR_INPUT["claim_url"]
    assert media_review["mediaAuthenticityCategory"] in MEDIA_CATEGORIES
    assert media_review["mediaAuthenticityCategory"] == "DecontextualizedContent"
    context = media_review["originalMediaContextDescription"]
    assert "2018-03-01" in context and "Idlib" in context and "Convoy ambush" in context
    assert media_review["originalMediaLink"] == "https://example.org/v/1"
    assert media_review["url"] == EDITOR_INPUT["article_url"] and media_review["author"] == claim_review["author"]

    # what is pasted is what the API serves, and safe inside <script type="application/ld+json">
    with live.client("reader") as rd:
        served = rd.get(f"/api/v1/checks/{world['recycled']}/claimreview")
        served_media = rd.get(f"/api/v1/checks/{world['recycled']}/mediareview")
    assert served.json() == claim_review and served_media.json() == media_review
    for text in (page.input_value("#claimreview"), page.input_value("#mediareview"), served.text):
        assert not set(text) & set("<>&"), text
    assert page.content().count("<script") == 3  # JSON-LD, app.js, evidence.js: the claimant's text stayed text

    for which in ("claimreview", "mediareview"):
        page.eval_on_selector("#copy-status", "e => { e.textContent = ''; }")
        page.click(f"#copy-{which}")
        page.wait_for_selector("#copy-status:has-text('Copied')")
        assert json.loads(page.evaluate("navigator.clipboard.readText()")) == (
            claim_review if which == "claimreview" else media_review)
    _fits(page, viewport)


def test_seen_before_offers_a_review_only_once_an_editor_picks_a_rating(world: dict[str, Any], browser: object,
                                                                        media: Media) -> None:
    live = world["live"]
    with live.client("editor") as ed:
        r = ed.post("/api/v1/checks", files={"file": ("same.mp4", media.reencode.read_bytes())},
                    data={"remember": "false"})
        done = live.wait_job(ed, r.json()["status_url"])
    assert done["report"]["verdict"] == "seen_before"
    page = _page(browser, live, "desktop")
    page.goto(f"{live.url}/checks/{done['id']}")
    assert page.locator("#claimreview").count() == 0 and "pick a rating" in page.inner_text("#no-review")
    page.select_option("#review-form select[name=rating]", "4")
    page.fill("#review-form [name=article_url]", "https://desk.example/a")
    page.click("#review-form button[type=submit]")
    page.wait_for_selector("#claimreview")
    rating = json.loads(page.input_value("#claimreview"))["reviewRating"]
    assert (rating["ratingValue"], rating["alternateName"]) == (4, "Mostly true")
    assert json.loads(page.input_value("#mediareview"))["mediaAuthenticityCategory"] == "OriginalMediaContent"
    page.fill("#review-form [name=claim_url]", "javascript:alert(1)")
    page.click("#review-form button[type=submit]")
    assert "claim_url must be an http:// or https:// link" in page.inner_text("#publish .error")
