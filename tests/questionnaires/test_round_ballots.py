"""Ballots for all the points of a ballot round at once (issue 10, item 1): one
count for the round, overrides per point, one PDF; every refusal inline with
nothing issued."""

from __future__ import annotations

import io
from unittest import mock

from pypdf import PdfReader

from questionnaires.models import BallotCode
from questionnaires.round_ballots import round_ballots_issue
from questionnaires.services import ServiceError, StateError, campaign_close
from tests.base import PersonaTestCase

from .helpers import make_round, point_of


def pages(content: bytes) -> int:
    return len(PdfReader(io.BytesIO(content)).pages)


class RoundBallotsTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        kinds = {"branch": "wuhao-branch"}
        cls.round = make_round(cls.school, title="选票评议", mode="ballot", kinds=kinds)
        cls.url = f"/manage/campaigns/{cls.round.pk}/ballots/"
        cls.point_a = point_of(cls.round, cls.branch_a)
        cls.point_b = point_of(cls.round, cls.branch_b)

    def post(self, count="30", overrides=None):
        overrides = overrides or {}
        points = [self.point_a, self.point_b]
        return self.client.post(
            self.url,
            {
                "count": count,
                "point": [str(p.pk) for p in points],
                "point_count": [overrides.get(p.pk, "") for p in points],
            },
        )

    def assert_refused(self, response, text: str, status: int = 400) -> None:
        self.assertEqual(response.status_code, status)
        self.assertEqual(response["Content-Type"], "text/html; charset=utf-8")
        self.assertContains(response, text, status_code=status)
        self.assertFalse(BallotCode.objects.exists())

    def test_the_round_page_links_to_the_ballots_of_all_points(self):
        self.login(self.leader)
        page = self.client.get(f"/manage/campaigns/{self.round.pk}/")
        self.assertContains(page, f'href="{self.url}"')
        form = self.client.get(self.url)
        self.assertContains(form, 'name="count"')
        self.assertContains(form, 'value="30"')  # the round-wide default
        self.assertContains(form, self.branch_a.name)
        self.assertContains(form, self.branch_b.code)
        self.assertContains(
            form, '<a href="/manage/campaigns/">评议轮次</a> ›'
        )  # breadcrumbs

    def test_the_office_issues_every_points_ballots_in_one_pdf(self):
        self.login(self.leader)
        response = self.post(count="30", overrides={self.point_b.pk: "9"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "application/pdf")
        self.assertIn("attachment", response["Content-Disposition"])
        self.assertIn(
            f"ballots-round-{self.round.pk}.pdf", response["Content-Disposition"]
        )
        self.assertEqual(BallotCode.objects.filter(point=self.point_a).count(), 30)
        self.assertEqual(BallotCode.objects.filter(point=self.point_b).count(), 9)
        # Eight slips a sheet, each unit's on sheets of its own: 4 + 2.
        self.assertEqual(pages(response.content), 6)
        page = self.client.get(f"/manage/campaigns/{self.round.pk}/")
        self.assertContains(page, "已发放 39 张选票")  # the flash message

    def test_a_point_given_0_gets_none(self):
        self.login(self.leader)
        response = self.post(count="5", overrides={self.point_a.pk: "0"})
        self.assertEqual(response.status_code, 200)
        self.assertFalse(BallotCode.objects.filter(point=self.point_a).exists())
        self.assertEqual(BallotCode.objects.filter(point=self.point_b).count(), 5)

    def test_a_count_of_0_or_below_is_refused_inline(self):
        self.login(self.leader)
        self.assert_refused(self.post(count="0"), "张数应为 1 到 20000")
        self.assert_refused(self.post(count="-3"), "张数应为 1 到 20000")
        self.assert_refused(
            self.post(overrides={self.point_a.pk: "-1"}), "张数应为 0 到 20000"
        )
        self.assert_refused(
            self.post(overrides={self.point_a.pk: "0", self.point_b.pk: "0"}),
            "没有要发放的选票",
        )

    def test_a_count_over_the_limit_is_refused_inline(self):
        self.login(self.leader)
        self.assert_refused(self.post(count="20001"), "张数应为 1 到 20000")
        self.assert_refused(
            self.post(overrides={self.point_b.pk: "20001"}), "张数应为 0 到 20000"
        )
        # Each point within the limit, the PDF over it.
        response = self.post(count="12000")
        self.assert_refused(response, "本次合计 24000 张")
        self.assertContains(response, 'value="12000"', status_code=400)  # kept

    def test_a_round_that_is_not_a_ballot_round_is_refused(self):
        open_round = make_round(
            self.school, title="扫码评议", kinds={"branch": "wuhao-branch"}
        )
        url = f"/manage/campaigns/{open_round.pk}/ballots/"
        self.login(self.leader)
        page = self.client.get(url)
        self.assertContains(page, "不是一人一票方式")
        self.assertNotContains(page, 'name="count"')
        self.assertNotContains(
            self.client.get(f"/manage/campaigns/{open_round.pk}/"), url
        )
        point = point_of(open_round, self.branch_a)
        response = self.client.post(
            url, {"count": "5", "point": [str(point.pk)], "point_count": [""]}
        )
        self.assert_refused(response, "不是一人一票方式", status=409)

    def test_a_draft_or_a_closed_round_is_refused(self):
        draft = make_round(
            self.school,
            title="草稿",
            mode="ballot",
            open_it=False,
            kinds={"branch": "wuhao-branch"},
        )
        self.login(self.leader)
        url = f"/manage/campaigns/{draft.pk}/ballots/"
        self.assertContains(self.client.get(url), "请先开启评议")
        self.assert_refused(self.client.post(url, {"count": "5"}), "请先开启评议", 409)
        campaign_close(campaign=self.round)
        page = self.client.get(self.url)
        self.assertContains(page, "轮次已结束")
        self.assert_refused(self.post(), "轮次已结束", status=409)
        with self.assertRaises(StateError):
            round_ballots_issue(campaign=self.round, counts={self.point_a.pk: 1})

    def test_no_ballot_exists_when_the_pdf_cannot_be_built(self):
        self.login(self.leader)
        with mock.patch(
            "questionnaires.ballots.round_slips_pdf", side_effect=OSError("disk full")
        ):
            with self.assertRaises(OSError):
                self.post()
        self.assertFalse(BallotCode.objects.exists())

    def test_the_service_refuses_a_point_of_another_round(self):
        other = make_round(
            self.school, title="另一轮", mode="ballot", kinds={"branch": "wuhao-branch"}
        )
        stranger = point_of(other, self.branch_a)
        with self.assertRaises(ServiceError):
            round_ballots_issue(
                campaign=self.round, counts={self.point_a.pk: 2, stranger.pk: 2}
            )
        self.assertFalse(BallotCode.objects.exists())

    def test_only_the_office_issues(self):
        for user in (self.manager_a, self.reviewer):
            self.login(user)
            self.assertEqual(self.client.get(self.url).status_code, 403)
            self.assertEqual(self.post().status_code, 403)
        self.assertFalse(BallotCode.objects.exists())
