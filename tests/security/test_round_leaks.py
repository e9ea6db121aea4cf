"""Figures that reached readers they should not: a small group through the baseline
comparison, live ballot counters of an open round, and another office's round
taken as a baseline."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from django.utils import timezone

from analysis.models import Result
from organizations.models import Membership, Unit
from questionnaires.models import Campaign
from questionnaires.services import (
    ballots_issue,
    campaign_close,
    response_submit,
)
from tests.analysis.synthetic import analysed, fill, published
from tests.base import PersonaTestCase, make_unit, make_user
from tests.questionnaires.helpers import builtin, full_answers, make_round, point_of


def ballots_cast(point, codes: list[str]) -> None:
    for i, code in enumerate(codes):
        response_submit(
            point=point,
            answers=full_answers(point),
            nonce=f"leak-test-{i:010d}",
            ballot=code,
            client_address="x",
        )


COMPARISON = ("baseline_n_valid", "baseline_rate", "diff", "diff_ci_low", "verdict")


class BaselineComparisonTests(PersonaTestCase):
    """A unit hidden in the spring round (n = 3) must not come back, with its exact
    figures, in the autumn round's comparison."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.tiny = make_unit(
            "A-2", Unit.Kind.BRANCH, cls.unit_a, "staff", name="甲学院小支部"
        )
        kinds = {"branch": "wuhao-branch"}
        cls.spring = make_round(cls.school, title="春季", kinds=kinds)
        fill(point_of(cls.spring, cls.tiny), n=3, satisfied=2)  # hidden
        fill(point_of(cls.spring, cls.branch_a), n=60, satisfied=50)
        fill(point_of(cls.spring, cls.branch_b), n=60, satisfied=58)
        analysed(cls.spring)
        published(cls.spring)
        cls.autumn = make_round(
            cls.school, title="秋季", kinds=kinds, baseline=cls.spring
        )
        fill(point_of(cls.autumn, cls.tiny), n=40, satisfied=39)  # visible now
        fill(point_of(cls.autumn, cls.branch_a), n=60, satisfied=57)
        fill(point_of(cls.autumn, cls.branch_b), n=60, satisfied=59)
        analysed(cls.autumn)
        published(cls.autumn)

    def rows(self, user, **params):
        response = self.api(user).get(
            f"/api/v1/campaigns/{self.autumn.pk}/results/", params
        )
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()["results"]

    def test_the_spring_round_hid_the_small_unit(self):
        hidden = Result.objects.get(
            run__campaign=self.spring, level=Result.Level.UNIT, unit=self.tiny
        )
        self.assertTrue(hidden.suppressed)

    def test_no_row_of_the_unit_compares_with_its_hidden_baseline(self):
        for user in (self.manager_a, self.leader, self.reviewer):
            rows = [
                r
                for level in ("unit", "dimension", "question")
                for r in self.rows(user, level=level, unit=self.tiny.pk, page_size=500)
            ]
            self.assertEqual(
                {r["level"] for r in rows}, {"unit", "dimension", "question"}
            )
            for row in rows:
                self.assertIsNotNone(row["n_valid"], row["level"])  # visible now
                for name in COMPARISON:
                    self.assertIn(row[name], (None, ""), (user, row["level"], name))

    def test_nor_does_the_export(self):
        response = self.api(self.manager_a).get(
            f"/api/v1/campaigns/{self.autumn.pk}/results/export/", {"filetype": "csv"}
        )
        self.assertEqual(response.status_code, 200)
        rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
        mine = [row for row in rows if row["单位编码"] == "A-2"]
        self.assertTrue(mine, list(rows[0]))
        for row in mine:
            for column in ("基线满意率", "变化", "变化区间下限", "改善p值", "结论"):
                self.assertIn(row.get(column, ""), ("", None), (column, row))

    def test_units_visible_in_both_rounds_keep_their_comparison(self):
        visible_in_spring = set(
            Result.objects.filter(
                run__campaign=self.spring, level=Result.Level.UNIT, suppressed=False
            ).values_list("unit_id", flat=True)
        )
        compared = 0
        for row in self.rows(self.leader, level="unit"):
            if row["unit"] in visible_in_spring and not row["suppressed"]:
                self.assertEqual(row["baseline_n_valid"], 60)
                self.assertIsNotNone(row["diff"])
                compared += 1
        self.assertGreater(compared, 0)


class LiveBallotCounterTests(PersonaTestCase):
    """While a ballot round runs, 'ballots used' of a 支部 is a live response counter."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.campaign = make_round(
            cls.school, mode="ballot", kinds={"branch": "wuhao-branch"}
        )
        cls.point = point_of(cls.campaign, cls.branch_a)
        codes = ballots_issue(point=cls.point, count=5)
        ballots_cast(cls.point, codes[:2])

    def used(self, user):
        response = self.api(user).get(f"/api/v1/campaigns/{self.campaign.pk}/points/")
        self.assertEqual(response.status_code, 200)
        item = next(p for p in response.json()["results"] if p["id"] == self.point.pk)
        return item["ballots_issued"], item["ballots_used"]

    def page(self, user) -> str:
        self.client.force_login(user)
        return self.client.get(
            f"/manage/campaigns/{self.campaign.pk}/"
        ).content.decode()

    def test_a_manager_sees_no_used_count_while_the_round_is_open(self):
        self.assertEqual(self.used(self.manager_a), (5, None))
        page = self.page(self.manager_a)
        self.assertNotIn("2/5", page)
        self.assertIn("仅领导小组办公室可见", page)

    def test_the_office_sees_it(self):
        self.assertEqual(self.used(self.leader), (5, 2))
        self.assertIn("2/5", self.page(self.leader))

    def test_a_manager_does_not_see_it_after_the_close_either(self):
        # Two ballots used is a group of two: the results hide it, and the
        # round's page and points API must not tell it either
        # (tests/security/test_differencing.py).
        campaign_close(campaign=self.campaign)
        self.assertEqual(self.used(self.manager_a), (5, None))
        self.assertNotIn("2/5", self.page(self.manager_a))
        self.assertEqual(self.used(self.leader), (5, 2))


class BaselineChoiceTests(PersonaTestCase):
    """A baseline must be a finished round of the same organiser, run by the same
    office: otherwise its figures are read through the comparison."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.office_a = make_user("office_a", Membership.Role.OFFICE, cls.unit_a)
        cls.school_round = make_round(cls.school, title="全校春季")
        campaign_close(campaign=cls.school_round)
        cls.own_open = make_round(cls.unit_a, title="学院秋季")
        cls.own_done = make_round(cls.unit_a, title="学院春季")
        campaign_close(campaign=cls.own_done)

    def body(self, baseline, organizer=None) -> dict:
        now = timezone.now()
        return {
            "organizer": (organizer or self.unit_a).pk,
            "title": "学院测评",
            "opens_at": (now + timedelta(days=1)).isoformat(),
            "closes_at": (now + timedelta(days=10)).isoformat(),
            "access_mode": "open",
            "questionnaires": {"branch": builtin("wuhao-branch").pk},
            "baseline": baseline.pk,
        }

    def create(self, user, baseline, organizer=None):
        return self.api(user).post(
            "/api/v1/campaigns/", self.body(baseline, organizer), format="json"
        )

    def test_a_sub_office_cannot_take_the_schools_round(self):
        response = self.create(self.office_a, self.school_round)
        self.assertEqual(response.status_code, 400)
        self.assertIn("baseline", response.json()["errors"])

    def test_an_open_round_cannot_be_a_baseline(self):
        response = self.create(self.office_a, self.own_open)
        self.assertEqual(response.status_code, 400)
        self.assertIn("baseline", response.json()["errors"])

    def test_another_organisers_round_cannot_be_a_baseline(self):
        # Even for the school office, which administers both.
        response = self.create(self.leader, self.own_done, organizer=self.school)
        self.assertEqual(response.status_code, 400)

    def test_a_finished_round_of_the_same_office_can(self):
        response = self.create(self.office_a, self.own_done)
        self.assertEqual(response.status_code, 201, response.content)

    def test_a_round_cannot_be_its_own_baseline(self):
        draft = make_round(self.unit_a, title="草稿", open_it=False)
        response = self.api(self.office_a).patch(
            f"/api/v1/campaigns/{draft.pk}/", {"baseline": draft.pk}, format="json"
        )
        self.assertEqual(response.status_code, 400)

    def test_the_admin_offers_only_rounds_that_may_be_a_baseline(self):
        from django.contrib.admin import site
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Permission
        from django.test import RequestFactory

        self.office_a.is_staff = True
        self.office_a.save()
        self.office_a.user_permissions.add(
            *Permission.objects.filter(
                codename__in=["view_campaign", "change_campaign"]
            )
        )
        request = RequestFactory().get("/admin/")
        request.user = get_user_model().objects.get(pk=self.office_a.pk)
        draft = make_round(self.unit_a, title="草稿", open_it=False)
        form = site._registry[Campaign].get_form(request, draft, change=True)
        offered = set(form.base_fields["baseline"].queryset)
        self.assertEqual(offered, {self.own_done})
