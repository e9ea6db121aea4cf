"""The respondent page's cache (questionnaires/page_cache.py): the cached page is
byte for byte the uncached render but for the CSRF token and the nonce, a hit
costs no query (one when facts are not kept) and no render, and every change that
should show shows: at once from this process, within RESPONDENT_FACTS_SECONDS from
another."""

from __future__ import annotations

import re
import tempfile
from datetime import timedelta
from pathlib import Path
from unittest import mock

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone

from questionnaires import page_cache, respond
from questionnaires.models import (
    Campaign,
    CollectionPoint,
    Commitment,
    PendingSubmission,
    Response,
)
from questionnaires.page_cache import Page, PointFacts
from questionnaires.services import (
    ballots_issue,
    campaign_close,
    commitments_replace,
    questionnaire_new_version,
)
from tests.base import PersonaTestCase

from .helpers import builtin, make_round, point_of

VARYING = re.compile(r'name="(csrfmiddlewaretoken|nonce)" value="[^"]*"')


def same_but_token_and_nonce(html: bytes) -> str:
    return VARYING.sub(r'name="\1" value=""', html.decode())


class PageCacheCase(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.campaign = make_round(cls.school, title="2024 年秋季评议")
        cls.point = point_of(cls.campaign, cls.window_a)
        commitments_replace(
            campaign=cls.campaign, unit=cls.window_a, texts=["一次告知", "午间不打烊"]
        )

    def setUp(self) -> None:
        cache.clear()  # the flood limit lives in the cache
        page_cache.pages_clear()
        self.browser = Client(enforce_csrf_checks=True)

    def url(self, point: CollectionPoint | None = None) -> str:
        return f"/s/{(point or self.point).token}/"

    def uncached(self, method: str, url: str, client: Client, **kwargs):
        """The page as it was rendered before the cache: the full path, always."""
        with (
            mock.patch.object(page_cache, "point_facts", return_value=None),
            mock.patch.object(respond, "_is_blank", return_value=False),
            mock.patch.object(page_cache, "page_put") as put,
        ):
            response = getattr(client, method)(url, **kwargs)
        put.assert_not_called()
        return response

    def assert_same_page(self, method: str, url: str, client=None, **kwargs):
        client = client or self.browser
        first = getattr(client, method)(url, **kwargs)  # rendered into the cache
        second = getattr(client, method)(url, **kwargs)  # from the cache
        before = self.uncached(method, url, client, **kwargs)
        self.assertEqual(first.status_code, before.status_code)
        expected = same_but_token_and_nonce(before.content)
        self.assertEqual(same_but_token_and_nonce(first.content), expected)
        self.assertEqual(same_but_token_and_nonce(second.content), expected)
        return second


class SameBytesTests(PageCacheCase):
    def test_it_serves_the_uncached_page_but_for_token_and_nonce(self):
        page = self.assert_same_page("get", self.url())
        self.assertContains(page, "午间不打烊")
        self.assertContains(page, f'action="{self.url()}"')

    def test_it_serves_the_english_page_in_english(self):
        english = self.assert_same_page("get", self.url(), HTTP_ACCEPT_LANGUAGE="en")
        chinese = self.browser.get(self.url())
        self.assertEqual(english["Content-Language"], "en")
        self.assertNotEqual(
            same_but_token_and_nonce(english.content),
            same_but_token_and_nonce(chinese.content),
        )

    def test_it_serves_the_ballot_pages_the_same(self):
        ballot_round = make_round(
            self.school, mode="ballot", title="党员评议", kinds={"branch": "wugemofan"}
        )
        point = point_of(ballot_round, self.branch_a)
        codes = ballots_issue(point=point, count=2)
        self.assert_same_page("get", self.url(point))  # asks for the code
        slip = self.assert_same_page("get", f"/b/{codes[0]}/")
        self.assertContains(slip, 'content="strict-origin"')
        self.assertContains(slip, f'name="ballot" value="{codes[0]}"')
        token = Client().get(self.url()).cookies["csrftoken"].value
        self.browser.cookies["csrftoken"] = token
        posted = self.assert_same_page(
            "post",
            "/b/",
            data={"ballot": codes[1], "csrfmiddlewaretoken": token},
            HTTP_ORIGIN="http://testserver",
        )
        self.assertContains(posted, f'name="ballot" value="{codes[1]}"')
        self.assertNotContains(posted, 'content="strict-origin"')

    def test_each_response_gets_its_own_masked_token_that_the_form_accepts(self):
        first = self.browser.get(self.url()).content.decode()
        second = self.browser.get(self.url()).content.decode()
        token = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
        self.assertNotEqual(token.search(first)[1], token.search(second)[1])
        self.assertIn("csrftoken", self.browser.cookies)

    def test_a_ballot_code_never_enters_the_cache(self):
        ballot_round = make_round(
            self.school, mode="ballot", title="党员评议", kinds={"branch": "wugemofan"}
        )
        code = ballots_issue(point=point_of(ballot_round, self.branch_a), count=1)[0]
        page = self.browser.get(f"/b/{code}/")
        self.assertContains(page, code)
        self.assertTrue(page_cache._pages)
        for cached in page_cache._pages.values():
            self.assertNotIn(code, "".join(cached.parts))


class HitTests(PageCacheCase):
    def test_a_hit_costs_no_query_and_no_render_while_the_facts_are_kept(self):
        self.browser.get(self.url())
        with (
            mock.patch.object(
                page_cache, "page_render", wraps=page_cache.page_render
            ) as render,
            self.assertNumQueries(0),
        ):
            page = self.browser.get(self.url())
        self.assertEqual(page.status_code, 200)
        render.assert_not_called()

    @override_settings(RESPONDENT_FACTS_SECONDS=0)
    def test_a_hit_costs_one_query_and_no_render_when_facts_are_not_kept(self):
        self.browser.get(self.url())
        with (
            mock.patch.object(
                page_cache, "page_render", wraps=page_cache.page_render
            ) as render,
            self.assertNumQueries(1),
        ):
            page = self.browser.get(self.url())
        self.assertEqual(page.status_code, 200)
        render.assert_not_called()


class KeptFactsTests(PageCacheCase):
    """Another worker's change (here an UPDATE, which sends no save signal) shows
    once the kept facts are RESPONDENT_FACTS_SECONDS old; a submission meanwhile
    reads the round fresh."""

    def at(self, seconds: float):
        return mock.patch.object(page_cache.time, "monotonic", return_value=seconds)

    def test_a_round_closed_elsewhere_stops_the_form_within_the_lifetime(self):
        with self.at(1000.0):
            self.assertEqual(self.browser.get(self.url()).status_code, 200)
        Campaign.objects.filter(pk=self.campaign.pk).update(
            status=Campaign.Status.CLOSED
        )
        with self.at(1000.5):
            form = self.browser.get(self.url())
        self.assertEqual(form.status_code, 200)  # still kept in this worker
        token = re.search(
            r'name="csrfmiddlewaretoken" value="([^"]+)"', form.content.decode()
        )[1]
        nonce = re.search(r'name="nonce" value="([^"]+)"', form.content.decode())[1]
        posted = self.browser.post(
            self.url(), {"csrfmiddlewaretoken": token, "nonce": nonce}
        )
        self.assertEqual(posted.status_code, 410)  # the submission reads it fresh
        self.assertFalse(PendingSubmission.objects.exists())
        self.assertFalse(Response.objects.exists())
        with self.at(1000.0 + settings.RESPONDENT_FACTS_SECONDS + 0.01):
            self.assertEqual(self.browser.get(self.url()).status_code, 410)

    def test_a_commitment_edited_elsewhere_shows_within_the_lifetime(self):
        with self.at(50.0):
            self.assertContains(self.browser.get(self.url()), "一次告知")
        Commitment.objects.filter(campaign=self.campaign, text="一次告知").update(
            text="当场办结"
        )
        with self.at(50.0 + settings.RESPONDENT_FACTS_SECONDS + 0.01):
            page = self.browser.get(self.url())
        self.assertContains(page, "当场办结")
        self.assertNotContains(page, "一次告知")

    def test_a_save_in_this_process_shows_at_once(self):
        with self.at(10.0):
            self.assertEqual(self.browser.get(self.url()).status_code, 200)
            campaign_close(campaign=self.campaign)
            self.assertEqual(self.browser.get(self.url()).status_code, 410)

    def test_facts_kept_before_the_saving_transaction_commits_are_forgotten(self):
        token = self.point.token
        before = page_cache.read_point_facts(token)
        with self.captureOnCommitCallbacks(execute=True):
            with transaction.atomic():
                campaign_close(campaign=self.campaign)
                # Another thread of this process reads the row as it stands
                # before the commit and keeps it.
                page_cache._facts[token] = (float("inf"), before)
        self.assertNotIn(token, page_cache._facts)
        self.assertEqual(self.browser.get(self.url()).status_code, 410)

    def test_unknown_tokens_are_not_kept(self):
        self.assertEqual(self.browser.get("/s/no-such-token/").status_code, 404)
        self.assertNotIn("no-such-token", page_cache._facts)

    def test_points_showing_the_same_content_share_nothing_they_should_not(self):
        other = point_of(self.campaign, self.branch_a)
        self.browser.get(self.url())
        page = self.browser.get(self.url(other))
        self.assertContains(page, "甲学院学生党支部")
        self.assertNotContains(page, "午间不打烊")
        self.assertContains(page, f'action="{self.url(other)}"')

    def test_the_local_cache_keeps_at_most_its_size(self):
        for i in range(page_cache.LOCAL_PAGES + 1):
            page_cache.page_put(str(i), Page((str(i),)))
        self.assertEqual(len(page_cache._pages), page_cache.LOCAL_PAGES)
        self.assertIsNone(page_cache.page_get("0"))
        self.assertIsNotNone(page_cache.page_get(str(page_cache.LOCAL_PAGES)))


class FreshnessTests(PageCacheCase):
    """Each change is made after the page is cached; the next visit shows it.

    Some changes are written with UPDATE, as another process might, which sends
    no save signal: each visit here comes RESPONDENT_FACTS_SECONDS after the one
    before, as a visit to another worker might (KeptFactsTests shows what comes
    sooner)."""

    def setUp(self) -> None:
        super().setUp()
        self.clock = 0.0
        self.assertEqual(self.page().status_code, 200)

    def page(self):
        self.clock += settings.RESPONDENT_FACTS_SECONDS + 0.01
        with mock.patch.object(page_cache.time, "monotonic", return_value=self.clock):
            return self.browser.get(self.url())

    def test_commitments_replaced_show_at_once(self):
        commitments_replace(
            campaign=self.campaign, unit=self.window_a, texts=["新承诺"]
        )
        page = self.page()
        self.assertContains(page, "新承诺")
        self.assertNotContains(page, "午间不打烊")

    def test_commitments_edited_elsewhere_show_at_once(self):
        # The admin and the API write the rows directly.
        Commitment.objects.filter(text="一次告知").update(text="一次说清")
        self.assertContains(self.page(), "一次说清")
        Commitment.objects.filter(text="一次说清").update(order=5)
        html = self.page().content.decode()
        self.assertLess(html.index("午间不打烊"), html.index("一次说清"))
        Commitment.objects.all().delete()
        self.assertNotContains(self.page(), "本单位的承诺")

    def test_the_rounds_title_description_and_closing_time_show_at_once(self):
        changes = {
            "title": "改过的标题",
            "description": "改过的说明",
            "closes_at": timezone.now() + timedelta(days=30),
        }
        for field, value in changes.items():
            with self.subTest(field):
                setattr(self.campaign, field, value)
                self.campaign.save(update_fields=[field])
                expected = self.uncached("get", self.url(), self.browser)
                self.assertEqual(
                    same_but_token_and_nonce(self.page().content),
                    same_but_token_and_nonce(expected.content),
                )
                if isinstance(value, str):
                    self.assertContains(expected, value)

    def test_a_closed_round_stops_the_form_at_once(self):
        campaign_close(campaign=self.campaign)
        page = self.page()
        self.assertEqual(page.status_code, 410)
        self.assertContains(page, "评议已结束", status_code=410)

    def test_a_round_past_its_closing_time_stops_the_form(self):
        self.campaign.opens_at = timezone.now() - timedelta(days=2)
        self.campaign.closes_at = timezone.now() - timedelta(seconds=1)
        self.campaign.save(update_fields=["opens_at", "closes_at"])
        self.assertEqual(self.page().status_code, 410)

    def test_a_round_moved_to_open_later_is_not_open(self):
        self.campaign.opens_at = timezone.now() + timedelta(days=1)
        self.campaign.save(update_fields=["opens_at"])
        page = self.page()
        self.assertContains(page, "评议尚未开始", status_code=403)

    def test_a_renamed_unit_or_organiser_shows_at_once(self):
        for unit, name in ((self.window_a, "改名的窗口"), (self.school, "改名的大学")):
            with self.subTest(name):
                unit.name = name
                unit.save(update_fields=["name"])
                self.assertContains(self.page(), name)

    def test_a_new_questionnaire_for_the_point_shows_at_once(self):
        other = builtin("wuhao-committee")
        CollectionPoint.objects.filter(pk=self.point.pk).update(questionnaire=other)
        page = self.page()
        self.assertEqual(
            same_but_token_and_nonce(page.content),
            same_but_token_and_nonce(
                self.uncached("get", self.url(), self.browser).content
            ),
        )
        first = other.questions.order_by("order", "id").first()
        self.assertContains(page, f'name="q{first.pk}"')

    def test_a_draft_questionnaire_is_never_cached(self):
        draft = questionnaire_new_version(questionnaire=builtin("window"))
        CollectionPoint.objects.filter(pk=self.point.pk).update(questionnaire=draft)
        with mock.patch.object(page_cache, "page_put") as put:
            page = self.page()
        self.assertEqual(page.status_code, 200)
        put.assert_not_called()

    def test_a_preview_is_never_cached(self):
        request = RequestFactory().get("/preview/")
        with mock.patch.object(page_cache, "page_put") as put:
            respond.render_preview(
                request, self.point.questionnaire, self.window_a, self.campaign
            )
        put.assert_not_called()

    def test_an_answered_cookie_shows_already_answered(self):
        # As respond.py sets it (set_signed_cookie) after a submission.
        name = f"answered_{self.point.pk}"
        signer = signing.get_cookie_signer(salt=name + "answered-point")
        self.browser.cookies[name] = signer.sign("1")
        self.assertContains(self.page(), "您已评价过")


class FactsTests(PageCacheCase):
    def test_the_one_query_reads_what_the_orm_reads(self):
        Commitment.objects.create(campaign=self.campaign, unit=self.unit_a, text="别的")
        other_round = make_round(self.school, open_it=False, title="别的轮次")
        Commitment.objects.create(
            campaign=other_round, unit=self.window_a, text="别的轮次的"
        )
        Commitment.objects.create(
            campaign=self.campaign, unit=self.window_a, text="排在最前", order=0
        )
        for point in CollectionPoint.objects.select_related(
            "campaign__organizer", "unit", "questionnaire"
        ):
            commitments = respond._commitments(point.unit, point.campaign)
            self.assertEqual(
                page_cache.point_facts(point.token), PointFacts.of(point, commitments)
            )
        facts = page_cache.point_facts(self.point.token)
        self.assertEqual(facts.commitments, ("一次告知", "排在最前", "午间不打烊"))
        self.assertIsNone(page_cache.point_facts("no-such-token"))


class DeployStampTests(PageCacheCase):
    def test_the_stamp_covers_the_templates_translations_and_code(self):
        files = {path.name for path in page_cache._stamp_files()}
        for name in ("form.html", "base.html", "respond.py", "django.mo"):
            self.assertIn(name, files)

    def test_a_changed_file_changes_the_stamp_and_every_key(self):
        request = self.browser.get(self.url()).wsgi_request
        facts = page_cache.point_facts(self.point.token)
        keys = []
        with tempfile.TemporaryDirectory() as directory:
            template = Path(directory) / "form.html"
            with mock.patch.object(page_cache, "_stamp_files", return_value=[template]):
                for text in ("一", "二"):
                    template.write_text(text)
                    page_cache.deploy_stamp.cache_clear()
                    keys.append(page_cache.page_key(request, facts, ballot=False))
        page_cache.deploy_stamp.cache_clear()
        self.assertNotEqual(keys[0], keys[1])
