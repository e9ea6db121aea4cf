"""Creating and editing a round from the browser's pages (issue 10, item 1):
the service's refusals, each shown at its field with nothing saved, and the
confirmation step before a round's move."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from organizations.models import Membership
from questionnaires.models import Campaign, CampaignQuestionnaire
from questionnaires.round_settings import (
    CampaignInvalid,
    campaign_create,
    campaign_update,
)
from questionnaires.services import (
    ServiceError,
    StateError,
    campaign_close,
    campaign_open,
    questionnaire_create,
)
from tests.base import PersonaTestCase, make_user

from .helpers import builtin, make_round

SHANGHAI = ZoneInfo("Asia/Shanghai")


class CampaignFormTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.sub_office = make_user("office_a", Membership.Role.OFFICE, cls.unit_a)
        cls.finished = make_round(cls.school, title="春季评议")
        campaign_close(campaign=cls.finished)
        cls.running = make_round(cls.school, title="进行中的评议")
        cls.round_a = make_round(cls.unit_a, title="甲学院评议")
        campaign_close(campaign=cls.round_a)
        cls.branch_q = builtin("wuhao-branch")
        cls.window_q = builtin("window")

    def form(self, **changes) -> dict[str, str]:
        data = {
            "organizer": str(self.school.pk),
            "title": "2026 年秋季群众评议",
            "description": "面向全校师生",
            "opens_at": "2026-10-08T08:00",
            "closes_at": "2026-10-22T18:00",
            "access_mode": "open",
            "target": "90",
            "rate_definition": "broad",
            "rate_levels": "",
            "min_group_size": "6",
            "min_flag_size": "10",
            "min_comment_responses": "10",
            "min_comments": "3",
            "baseline": str(self.finished.pk),
            "questionnaire_committee": "",
            "questionnaire_branch": str(self.branch_q.pk),
            "questionnaire_window": str(self.window_q.pk),
        }
        data.update(changes)
        return data

    def assert_refused(self, response, field: str, text: str, count: int) -> None:
        self.assertEqual(response.status_code, 200)
        errors = response.context["form"].errors
        self.assertIn(field, errors)
        self.assertIn(text, " ".join(errors[field]))
        self.assertContains(response, text)
        self.assertEqual(Campaign.objects.count(), count)

    # --- the page -----------------------------------------------------------------

    def test_the_office_creates_a_round_with_the_page(self):
        self.login(self.leader)
        page = self.client.get("/manage/campaigns/")
        self.assertContains(page, 'href="/manage/campaigns/new/"')
        page = self.client.get("/manage/campaigns/new/")
        self.assertContains(page, 'type="datetime-local"')
        self.assertContains(page, "不得低于 3，默认 5")  # help text with the default
        self.assertContains(page, 'value="95"')
        # Finished rounds only, each named with its organiser (who must match).
        options = page.context["form"].fields["baseline"].queryset
        self.assertEqual(set(options), {self.finished, self.round_a})
        self.assertContains(page, "春季评议（测试大学）")
        response = self.client.post("/manage/campaigns/new/", self.form())
        campaign = Campaign.objects.get(title="2026 年秋季群众评议")
        self.assertRedirects(response, f"/manage/campaigns/{campaign.pk}/")
        self.assertEqual(campaign.status, "draft")
        self.assertEqual(campaign.organizer, self.school)
        self.assertEqual(str(campaign.target), "0.900")
        self.assertEqual(campaign.min_group_size, 6)
        self.assertEqual(campaign.baseline, self.finished)
        self.assertEqual(
            campaign.opens_at, datetime(2026, 10, 8, 8, 0, tzinfo=SHANGHAI)
        )
        self.assertEqual(
            dict(
                campaign.questionnaire_choices.values_list("unit_kind", "questionnaire")
            ),
            {"branch": self.branch_q.pk, "window": self.window_q.pk},
        )

    def test_bad_dates_are_refused_at_the_field_and_nothing_is_saved(self):
        self.login(self.leader)
        before = Campaign.objects.count()
        response = self.client.post(
            "/manage/campaigns/new/", self.form(closes_at="2026-10-01T08:00")
        )
        self.assert_refused(response, "closes_at", "结束时间必须晚于开始时间", before)
        self.assertContains(response, "2026 年秋季群众评议")  # values kept
        self.assertContains(response, 'value="2026-10-01T08:00"')
        self.assertEqual(CampaignQuestionnaire.objects.count(), 3 * before)

    def test_a_target_outside_50_to_100_percent_is_refused(self):
        self.login(self.leader)
        response = self.client.post("/manage/campaigns/new/", self.form(target="30"))
        self.assert_refused(response, "target", "50% 到 100%", 3)

    def test_min_group_size_below_3_is_refused(self):
        self.login(self.leader)
        response = self.client.post(
            "/manage/campaigns/new/", self.form(min_group_size="2")
        )
        self.assert_refused(response, "min_group_size", "3", 3)

    def test_a_round_with_no_questionnaire_is_refused(self):
        self.login(self.leader)
        response = self.client.post(
            "/manage/campaigns/new/",
            self.form(questionnaire_branch="", questionnaire_window=""),
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn(
            "请至少为一类单位指定问卷",
            " ".join(response.context["form"].non_field_errors()),
        )
        self.assertContains(response, "请至少为一类单位指定问卷")
        self.assertEqual(Campaign.objects.count(), 3)

    def test_a_questionnaire_of_another_kind_or_a_draft_is_refused(self):
        self.login(self.leader)
        response = self.client.post(
            "/manage/campaigns/new/",
            self.form(questionnaire_committee=str(self.branch_q.pk)),
        )
        self.assert_refused(response, "questionnaire_committee", "", 3)
        draft = questionnaire_create(
            spec={
                "key": "draft-branch",
                "title": "草稿问卷",
                "target_kind": "branch",
                "questions": [
                    {"code": "q", "kind": "text", "text": "意见"},
                ],
            }
        )
        with self.assertRaises(CampaignInvalid) as refused:
            campaign_create(
                organizer=self.school,
                user=self.leader,
                fields=self.service_fields(questionnaires={"branch": draft}),
            )
        self.assertIn("questionnaire_branch", refused.exception.errors)
        self.assertEqual(Campaign.objects.count(), 3)

    def test_a_baseline_that_may_not_be_one_is_refused(self):
        self.login(self.leader)
        # Running, not finished: not offered, and refused when posted all the same.
        page = self.client.get("/manage/campaigns/new/")
        self.assertNotIn(self.running, page.context["form"].fields["baseline"].queryset)
        response = self.client.post(
            "/manage/campaigns/new/", self.form(baseline=str(self.running.pk))
        )
        self.assert_refused(response, "baseline", "", 3)
        # Another organiser's round, through the service: refused with the rule's reason.
        with self.assertRaises(CampaignInvalid) as refused:
            campaign_create(
                organizer=self.school,
                user=self.leader,
                fields=self.service_fields(baseline=self.round_a),
            )
        self.assertEqual(
            refused.exception.errors["baseline"], ["基线必须是同一组织单位的轮次。"]
        )
        self.assertEqual(Campaign.objects.count(), 3)

    def test_a_sub_office_may_not_organise_a_school_round(self):
        self.login(self.sub_office)
        page = self.client.get("/manage/campaigns/new/")
        self.assertEqual(
            list(page.context["form"].fields["organizer"].queryset), [self.unit_a]
        )
        response = self.client.post("/manage/campaigns/new/", self.form())
        self.assert_refused(response, "organizer", "", 3)
        with self.assertRaises(ServiceError) as refused:
            campaign_create(
                organizer=self.school,
                user=self.sub_office,
                fields=self.service_fields(),
            )
        self.assertEqual(refused.exception.code, "forbidden")
        self.assertEqual(Campaign.objects.count(), 3)

    def test_users_who_are_not_an_office_may_not_create_or_edit(self):
        draft = make_round(self.school, title="草稿", open_it=False)
        for user in (self.manager_a, self.reviewer):
            self.login(user)
            self.assertEqual(self.client.get("/manage/campaigns/new/").status_code, 403)
            response = self.client.post("/manage/campaigns/new/", self.form())
            self.assertEqual(response.status_code, 403)
            self.assertNotContains(
                self.client.get("/manage/campaigns/"), "/manage/campaigns/new/"
            )
        self.login(self.reviewer)
        url = f"/manage/campaigns/{draft.pk}/edit/"
        self.assertEqual(self.client.get(url).status_code, 403)
        self.assertEqual(self.client.post(url, self.form()).status_code, 403)
        with self.assertRaises(ServiceError):
            campaign_update(
                campaign=draft, user=self.manager_a, fields=self.service_fields()
            )
        draft.refresh_from_db()
        self.assertEqual(draft.title, "草稿")
        self.assertEqual(Campaign.objects.count(), 4)

    # --- editing ------------------------------------------------------------------

    def test_the_office_edits_a_draft_and_a_refusal_changes_nothing(self):
        draft = make_round(self.school, title="草稿", open_it=False)
        self.login(self.leader)
        url = f"/manage/campaigns/{draft.pk}/edit/"
        page = self.client.get(url)
        self.assertContains(page, 'value="草稿"')
        options = page.context["form"].fields["baseline"].queryset
        self.assertEqual(list(options), [self.finished])  # the same organiser's
        self.assertEqual(page.context["form"].initial["target"], "95")
        refused = self.client.post(
            url, self.form(title="改过的草稿", opens_at="2026-11-01T08:00")
        )
        self.assertEqual(refused.status_code, 200)
        self.assertIn("closes_at", refused.context["form"].errors)
        draft.refresh_from_db()
        self.assertEqual(draft.title, "草稿")
        self.assertEqual(draft.questionnaire_choices.count(), 3)
        response = self.client.post(
            url, self.form(title="改过的草稿", questionnaire_window="", target="92.5")
        )
        self.assertRedirects(response, f"/manage/campaigns/{draft.pk}/")
        draft.refresh_from_db()
        self.assertEqual(draft.title, "改过的草稿")
        self.assertEqual(str(draft.target), "0.925")
        self.assertEqual(
            set(draft.questionnaire_choices.values_list("unit_kind", flat=True)),
            {"branch"},
        )

    def test_a_round_that_has_opened_is_not_edited(self):
        self.login(self.leader)
        url = f"/manage/campaigns/{self.running.pk}/edit/"
        page = self.client.get(url)
        self.assertContains(page, "轮次开启后不能再修改设置")
        self.assertNotContains(page, 'name="title"')
        self.assertIsNone(page.context["form"])
        response = self.client.post(url, self.form(title="改名"))
        self.assertEqual(response.status_code, 409)
        self.running.refresh_from_db()
        self.assertEqual(self.running.title, "进行中的评议")
        with self.assertRaises(StateError):
            campaign_update(
                campaign=self.running, user=self.leader, fields=self.service_fields()
            )

    def service_fields(self, **changes):
        fields = {
            "title": "服务新建",
            "description": "",
            "opens_at": datetime(2026, 10, 8, 8, tzinfo=SHANGHAI),
            "closes_at": datetime(2026, 10, 9, 8, tzinfo=SHANGHAI),
            "access_mode": "open",
            "target": 0.95,
            "rate_definition": "broad",
            "rate_levels": [],
            "neutral_counts_as_satisfied": False,
            "min_group_size": 5,
            "min_flag_size": 10,
            "min_comment_responses": 10,
            "min_comments": 3,
            "baseline": None,
            "questionnaires": {"branch": self.branch_q},
        }
        fields.update(changes)
        return fields

    def test_the_service_creates_a_round_in_one_piece(self):
        campaign = campaign_create(
            organizer=self.unit_a, user=self.sub_office, fields=self.service_fields()
        )
        self.assertEqual(campaign.status, "draft")
        self.assertEqual(
            campaign.questionnaire_choices.get().questionnaire, self.branch_q
        )
        self.assertEqual(campaign.closes_at - campaign.opens_at, timedelta(days=1))


class TransitionConfirmationTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.campaign = make_round(cls.school, title="秋季测评")

    def test_the_round_page_links_to_a_confirmation_that_says_what_closing_does(self):
        self.login(self.leader)
        url = f"/manage/campaigns/{self.campaign.pk}/transition/close/"
        self.assertContains(
            self.client.get(f"/manage/campaigns/{self.campaign.pk}/"), f'href="{url}"'
        )
        page = self.client.get(url)
        self.assertContains(page, "不再接受任何答卷")
        self.assertContains(page, "匿名池")
        self.assertContains(page, f'<form method="post" action="{url}">')
        self.campaign.refresh_from_db()
        self.assertEqual(self.campaign.status, "open")  # a GET moves nothing
        self.assertRedirects(
            self.client.post(url), f"/manage/campaigns/{self.campaign.pk}/"
        )
        self.campaign.refresh_from_db()
        self.assertEqual(self.campaign.status, "closed")

    def test_a_move_the_state_does_not_allow_shows_why_and_no_button(self):
        self.login(self.leader)
        url = f"/manage/campaigns/{self.campaign.pk}/transition/publish/"
        page = self.client.get(url)
        self.assertContains(page, "各单位可以查看")
        self.assertContains(page, "不能执行此操作")
        self.assertNotContains(page, f'action="{url}"')

    def test_only_the_office_sees_the_confirmation(self):
        url = f"/manage/campaigns/{self.campaign.pk}/transition/close/"
        for user in (self.manager_a, self.reviewer):
            self.login(user)
            self.assertEqual(self.client.get(url).status_code, 403)
        self.login(self.leader)
        bad = f"/manage/campaigns/{self.campaign.pk}/transition/delete/"
        self.assertEqual(self.client.get(bad).status_code, 404)


class RoundPagePresentationTests(PersonaTestCase):
    """The round's pages as the office reads them: percentages, Chinese dates,
    breadcrumbs, and the controls of the next step."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.draft = make_round(
            cls.school,
            title="秋季测评",
            open_it=False,
            opens_at=datetime(2026, 5, 15, 8, tzinfo=SHANGHAI),
            closes_at=datetime(2026, 6, 14, 18, tzinfo=SHANGHAI),
            target="0.925",
        )

    def test_the_target_is_a_percentage_and_the_dates_are_chinese(self):
        self.login(self.leader)
        page = self.client.get(f"/manage/campaigns/{self.draft.pk}/")
        self.assertContains(page, "目标满意率 92.5%")
        self.assertNotContains(page, "0.925")
        self.assertContains(page, "2026年5月15日—6月14日")
        listing = self.client.get("/manage/campaigns/")
        self.assertContains(listing, "2026年5月15日—6月14日")

    def test_the_round_pages_have_breadcrumbs_and_titles(self):
        self.login(self.leader)
        crumbs = (
            '<nav aria-label="breadcrumb" class="crumbs no-print">'
            '<a href="/manage/">工作台</a> › <a href="/manage/campaigns/">评议轮次</a>'
        )
        for url in (
            f"/manage/campaigns/{self.draft.pk}/",
            f"/manage/campaigns/{self.draft.pk}/edit/",
            f"/manage/campaigns/{self.draft.pk}/transition/open/",
        ):
            with self.subTest(url=url):
                page = self.client.get(url)
                self.assertContains(page, crumbs)
                self.assertContains(page, "<title>")
                self.assertContains(page, "秋季测评")
        page = self.client.get(f"/manage/campaigns/{self.draft.pk}/")
        self.assertContains(page, "› 秋季测评</nav>")

    def test_a_draft_shows_edit_preview_and_open_and_says_when_posters_come(self):
        self.login(self.leader)
        page = self.client.get(f"/manage/campaigns/{self.draft.pk}/")
        self.assertContains(page, 'id="edit-link"')
        self.assertContains(page, 'id="open-link"')
        self.assertContains(page, 'id="preview-branch"')
        self.assertContains(page, "开启评议后可下载全部海报")
        self.assertNotContains(page, 'id="posters-link"')
        campaign_open(campaign=self.draft)
        page = self.client.get(f"/manage/campaigns/{self.draft.pk}/")
        self.assertContains(
            page,
            f'id="posters-link" href="/manage/campaigns/{self.draft.pk}/posters.pdf"',
        )
        # Closing is a link to its confirmation page, never a button that acts.
        close = f"/manage/campaigns/{self.draft.pk}/transition/close/"
        self.assertContains(page, f'id="close-link" href="{close}"')
        self.assertNotContains(page, f'action="{close}"')
        posters = self.client.get(f"/manage/campaigns/{self.draft.pk}/posters.pdf")
        self.assertEqual(posters["Content-Type"], "application/pdf")


class OneRuleSetTests(PersonaTestCase):
    """The API validates through round_settings: the pages' rules, with the API's
    documented target (above 0) and optional questionnaires."""

    def body(self, **changes):
        body = {
            "organizer": self.school.pk,
            "title": "接口轮次",
            "opens_at": "2030-03-01T08:00:00+08:00",
            "closes_at": "2030-03-15T18:00:00+08:00",
            "access_mode": "open",
            "questionnaires": {"branch": builtin("wuhao-branch").pk},
        }
        body.update(changes)
        return body

    def test_the_api_takes_a_target_the_page_refuses(self):
        response = self.api(self.leader).post(
            "/api/v1/campaigns/", self.body(target="0.300"), format="json"
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["target"], "0.300")
        for target in ("0", "0.000", "-0.1"):
            response = self.api(self.leader).post(
                "/api/v1/campaigns/", self.body(target=target), format="json"
            )
            self.assertEqual(response.status_code, 400, target)
            self.assertEqual(
                response.json()["errors"]["target"], ["目标应在 0 到 1 之间。"]
            )

    def test_the_api_may_leave_the_questionnaires_for_later(self):
        body = self.body()
        del body["questionnaires"]
        response = self.api(self.leader).post("/api/v1/campaigns/", body, format="json")
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["questionnaires"], {})

    def test_the_api_refuses_what_the_page_refuses(self):
        cases = [
            (
                {"questionnaires": {"committee": builtin("wuhao-branch").pk}},
                "questionnaires",
            ),
            ({"rate_definition": "levels", "rate_levels": []}, "rate_levels"),
            ({"title": "   "}, "title"),
            ({"opens_at": "1899-01-01T08:00:00+08:00"}, "opens_at"),
        ]
        for changes, path in cases:
            with self.subTest(path=path):
                response = self.api(self.leader).post(
                    "/api/v1/campaigns/", self.body(**changes), format="json"
                )
                self.assertEqual(response.status_code, 400, response.content)
                self.assertIn(path, response.json()["errors"])
        self.assertFalse(Campaign.objects.exists())
