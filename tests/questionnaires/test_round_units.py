"""Which units take part in a round (issue 10, item 1): all active evaluated
units under the organiser by default, some excluded on the round's form; opening
makes points for the participating ones only."""

from __future__ import annotations

from organizations.models import Unit
from questionnaires.models import Campaign
from questionnaires.round_settings import CampaignInvalid, campaign_update
from questionnaires.services import campaign_open
from tests.base import PersonaTestCase, make_unit

from .helpers import builtin, make_round


class RoundUnitsTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.retired = make_unit(
            "B-9",
            Unit.Kind.BRANCH,
            cls.unit_b,
            "staff",
            active=False,
            name="已撤销支部",
        )
        cls.branch_q = builtin("wuhao-branch")
        cls.window_q = builtin("window")

    def form(self, **changes) -> dict:
        data = {
            "organizer": str(self.school.pk),
            "title": "2026 年秋季群众评议",
            "opens_at": "2026-10-08T08:00",
            "closes_at": "2026-10-22T18:00",
            "access_mode": "open",
            "target": "95",
            "rate_definition": "broad",
            "min_group_size": "5",
            "min_flag_size": "10",
            "min_comment_responses": "10",
            "min_comments": "3",
            "questionnaire_branch": str(self.branch_q.pk),
            "questionnaire_window": str(self.window_q.pk),
        }
        data.update(changes)
        return data

    def test_the_form_lists_the_units_by_kind_in_tree_order_with_codes(self):
        self.login(self.leader)
        page = self.client.get("/manage/campaigns/new/")
        groups = page.context["form"].unit_groups
        self.assertEqual(
            [g["label"] for g in groups], ["二级党组织", "党支部", "服务窗口/示范岗"]
        )
        self.assertEqual(
            [[item["unit"].code for item in g["units"]] for g in groups],
            [["A", "B"], ["A-1", "B-1"], ["A-W"]],
        )
        self.assertFalse(any(i["excluded"] for g in groups for i in g["units"]))
        self.assertContains(page, 'name="excluded_units"', count=5)
        self.assertContains(page, "<code>A-W</code>")
        self.assertNotContains(page, "已撤销支部")  # inactive: never evaluated

    def test_excluded_units_get_no_point_when_the_round_opens(self):
        self.login(self.leader)
        response = self.client.post(
            "/manage/campaigns/new/",
            self.form(excluded_units=[str(self.branch_b.pk)]),
        )
        campaign = Campaign.objects.get(title="2026 年秋季群众评议")
        self.assertRedirects(response, f"/manage/campaigns/{campaign.pk}/")
        self.assertEqual(list(campaign.excluded_units.all()), [self.branch_b])
        page = self.client.get(f"/manage/campaigns/{campaign.pk}/")
        participation = page.context["kinds"]
        self.assertEqual(
            {k["kind"]: [u.code for u in k["units"]] for k in participation},
            {"branch": ["A-1"], "window": ["A-W"]},
        )
        self.assertEqual(page.context["excluded"], [self.branch_b])
        self.assertContains(page, "不参加本轮的单位")
        self.assertContains(page, "乙机关教工党支部 <code>B-1</code>")
        campaign_open(campaign=campaign)
        self.assertEqual(
            set(campaign.points.values_list("unit__code", flat=True)), {"A-1", "A-W"}
        )
        # Once open, the page lists the points' units, the exclusion still shown.
        page = self.client.get(f"/manage/campaigns/{campaign.pk}/")
        self.assertEqual(page.context["excluded"], [self.branch_b])
        self.assertEqual(
            [u.code for k in page.context["kinds"] for u in k["units"]], ["A-1", "A-W"]
        )

    def test_the_edit_form_shows_the_exclusions_and_changes_them(self):
        draft = make_round(self.school, title="草稿", open_it=False)
        draft.excluded_units.set([self.unit_b, self.window_a])
        self.login(self.leader)
        url = f"/manage/campaigns/{draft.pk}/edit/"
        page = self.client.get(url)
        ticked = {
            i["unit"].code
            for g in page.context["form"].unit_groups
            for i in g["units"]
            if i["excluded"]
        }
        self.assertEqual(ticked, {"B", "A-W"})
        self.assertContains(page, f'value="{self.unit_b.pk}" checked')
        response = self.client.post(
            url, self.form(excluded_units=[str(self.unit_a.pk)])
        )
        self.assertRedirects(response, f"/manage/campaigns/{draft.pk}/")
        self.assertEqual(list(draft.excluded_units.all()), [self.unit_a])
        self.client.post(url, self.form())  # none ticked: everyone takes part
        self.assertFalse(draft.excluded_units.exists())

    def test_excluding_every_unit_of_the_round_is_refused(self):
        self.login(self.leader)
        # Branches and windows take part: excluding those three leaves none,
        # whatever happens to the committees (which have no questionnaire).
        every = [str(u.pk) for u in (self.branch_a, self.branch_b, self.window_a)]
        response = self.client.post(
            "/manage/campaigns/new/", self.form(excluded_units=every)
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("excluded_units", response.context["form"].errors)
        self.assertContains(response, "不能排除本轮的全部单位")
        self.assertContains(response, f'value="{self.branch_a.pk}" checked')  # kept
        self.assertFalse(Campaign.objects.exists())
        # On an edit too: the round keeps what it had.
        draft = make_round(self.school, title="草稿", open_it=False)
        draft.excluded_units.set([self.branch_b])
        response = self.client.post(
            f"/manage/campaigns/{draft.pk}/edit/",
            self.form(title="改名", excluded_units=every),
        )
        self.assertContains(response, "不能排除本轮的全部单位")
        draft.refresh_from_db()
        self.assertEqual(draft.title, "草稿")
        self.assertEqual(list(draft.excluded_units.all()), [self.branch_b])

    def test_a_unit_outside_the_organiser_is_refused(self):
        draft = make_round(self.unit_a, title="甲学院评议", open_it=False)
        with self.assertRaises(CampaignInvalid) as refused:
            campaign_update(
                campaign=draft,
                user=self.leader,
                fields={
                    "title": "甲学院评议",
                    "opens_at": draft.opens_at,
                    "closes_at": draft.closes_at,
                    "access_mode": "open",
                    "target": 0.95,
                    "min_group_size": 5,
                    "min_flag_size": 10,
                    "min_comment_responses": 10,
                    "min_comments": 3,
                    "excluded_units": [self.branch_b],
                },
            )
        self.assertIn(
            "乙机关教工党支部（B-1）", refused.exception.errors["excluded_units"][0]
        )
        self.assertFalse(draft.excluded_units.exists())

    def test_the_api_leaves_the_exclusions_alone(self):
        draft = make_round(self.school, title="草稿", open_it=False)
        draft.excluded_units.set([self.branch_b])
        response = self.api(self.leader).patch(
            f"/api/v1/campaigns/{draft.pk}/", {"title": "接口改名"}, format="json"
        )
        self.assertEqual(response.status_code, 200, response.content)
        draft.refresh_from_db()
        self.assertEqual(draft.title, "接口改名")
        self.assertEqual(list(draft.excluded_units.all()), [self.branch_b])
        self.assertEqual(draft.questionnaire_choices.count(), 3)  # kept too
