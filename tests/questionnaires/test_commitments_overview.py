"""/manage/campaigns/<id>/commitments/: the office sees which units of a round have
entered commitments and which have none ("未填写")."""

from __future__ import annotations

from django.urls import reverse

from organizations.models import Membership
from questionnaires.services import campaign_close, commitments_replace
from tests.base import PersonaTestCase, make_user
from tests.questionnaires.helpers import make_round

KINDS = {"branch": "wuhao-branch", "window": "window"}


def url(campaign) -> str:
    return reverse("manage-commitments-overview", args=[campaign.pk])


class CommitmentsOverviewTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.sub_office = make_user("office_a", Membership.Role.OFFICE, cls.unit_a)
        cls.open_round = make_round(cls.school, title="冬季评议", kinds=KINDS)
        commitments_replace(
            campaign=cls.open_round,
            unit=cls.branch_a,
            texts=["每周公开办事进度", "窗口延时服务"],
        )
        cls.draft = make_round(cls.school, title="草稿轮次", kinds=KINDS, open_it=False)
        cls.round_a = make_round(cls.unit_a, title="甲学院轮次", kinds=KINDS)

    def rows(self, campaign, user=None) -> dict[str, str]:
        """Unit code → its commitments cell, as the page shows them."""
        self.login(user or self.leader)
        response = self.client.get(url(campaign))
        self.assertEqual(response.status_code, 200)
        table = response.content.decode().split('id="commitments"', 1)[1]
        body = table.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
        found = {}
        for row in body.split("</tr>")[:-1]:
            code = row.split("<code>", 1)[1].split("</code>", 1)[0]
            found[code] = row.split('<td class="num">', 1)[1].split("</td>", 1)[0]
        return found

    def test_it_lists_each_unit_with_its_count_or_none(self):
        rows = self.rows(self.open_round)
        self.assertEqual(list(rows), ["A-1", "A-W", "B-1"])
        self.assertEqual(rows["A-1"], "2")
        self.assertIn("未填写", rows["A-W"])
        self.assertIn("未填写", rows["B-1"])
        response = self.client.get(url(self.open_round))
        self.assertContains(response, "参加本轮的 3 个单位中，2 个尚未填写承诺。")
        self.assertContains(
            response,
            reverse("manage-commitments", args=[self.open_round.pk, self.branch_b.pk]),
        )

    def test_a_draft_lists_the_units_that_will_take_part(self):
        self.draft.excluded_units.set([self.window_a])
        rows = self.rows(self.draft)
        self.assertEqual(list(rows), ["A-1", "B-1"])

    def test_a_sub_office_sees_its_own_units_only(self):
        rows = self.rows(self.open_round, self.sub_office)
        self.assertEqual(list(rows), ["A-1", "A-W"])

    def test_a_finished_round_offers_no_edits(self):
        campaign_close(campaign=self.open_round)
        self.login(self.leader)
        response = self.client.get(url(self.open_round))
        self.assertContains(response, "轮次已结束，承诺不能再修改。")
        self.assertNotContains(
            response,
            reverse("manage-commitments", args=[self.open_round.pk, self.branch_a.pk]),
        )
        self.assertEqual(self.rows(self.open_round)["A-1"], "2")

    def test_a_unit_manager_or_reviewer_is_refused(self):
        for user in (self.manager_a, self.reviewer):
            self.login(user)
            self.assertEqual(self.client.get(url(self.open_round)).status_code, 403)

    def test_a_sub_office_sees_its_own_units_of_the_schools_draft(self):
        # A draft has no points: its units that would take part bring it in scope.
        rows = self.rows(self.draft, self.sub_office)
        self.assertEqual(list(rows), ["A-1", "A-W"])

    def test_a_round_out_of_scope_is_not_found(self):
        self.login(self.manager_b)
        self.assertEqual(self.client.get(url(self.round_a)).status_code, 404)
        # None of A's units takes part in the school's draft: not A's to see.
        self.draft.excluded_units.set([self.branch_a, self.window_a])
        self.login(self.sub_office)
        self.assertEqual(self.client.get(url(self.draft)).status_code, 404)

    def test_it_needs_a_login(self):
        response = self.client.get(url(self.open_round))
        self.assertEqual(response.status_code, 302)
        self.assertIn("/accounts/login/", response["Location"])
