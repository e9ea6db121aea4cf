"""Management pages of rounds: scoping, transitions, commitments, ballots, QR codes, posters."""

import io
from unittest import mock

from django.utils import timezone

from organizations.models import Unit
from questionnaires.models import BallotCode, Campaign, Commitment
from questionnaires.services import campaign_open
from tests.base import PersonaTestCase

from .helpers import make_round, point_of


class CampaignPageTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.campaign = make_round(cls.school, title="秋季测评")
        cls.point_a = point_of(cls.campaign, cls.window_a)
        cls.point_b = point_of(cls.campaign, cls.unit_b)

    def test_pages_need_a_login(self):
        for url in (
            "/manage/campaigns/",
            f"/manage/campaigns/{self.campaign.pk}/",
            f"/manage/points/{self.point_a.pk}/qr.png",
        ):
            response = self.client.get(url)
            self.assertEqual(response.status_code, 302, url)

    def test_a_manager_sees_the_round_and_only_its_own_points(self):
        self.login(self.manager_a)
        self.assertContains(self.client.get("/manage/campaigns/"), "秋季测评")
        page = self.client.get(f"/manage/campaigns/{self.campaign.pk}/")
        self.assertContains(page, "甲学院服务窗口")
        self.assertNotContains(page, "乙机关党委")
        self.assertNotContains(page, "结束评议")  # office-only action

    def test_the_points_are_listed_in_tree_order(self):
        """Each unit under its parent, whatever the sort order says of cousins:
        here 乙 comes before 甲's branch and window by sort order alone."""
        Unit.objects.filter(code__in=["A-1", "A-W"]).update(sort_order=9)
        self.login(self.leader)
        html = self.client.get(
            f"/manage/campaigns/{self.campaign.pk}/"
        ).content.decode()
        points = html[html.index('id="points"') :]
        names = [
            "甲学院党委",
            "甲学院学生党支部",
            "甲学院服务窗口",
            "乙机关党委",
            "乙机关教工党支部",
        ]
        places = [points.index(f"<td>{name} <code>") for name in names]
        self.assertEqual(places, sorted(places))

    def test_the_office_closes_a_round_from_the_page_and_a_manager_cannot(self):
        self.login(self.manager_a)
        url = f"/manage/campaigns/{self.campaign.pk}/transition/close/"
        self.assertEqual(self.client.post(url).status_code, 403)
        self.login(self.leader)
        self.assertRedirects(
            self.client.post(url), f"/manage/campaigns/{self.campaign.pk}/"
        )
        self.assertEqual(Campaign.objects.get(pk=self.campaign.pk).status, "closed")

    def test_an_illegal_transition_shows_a_message_and_changes_nothing(self):
        self.login(self.leader)
        response = self.client.post(
            f"/manage/campaigns/{self.campaign.pk}/transition/publish/", follow=True
        )
        self.assertContains(response, "不能执行此操作")
        self.assertEqual(Campaign.objects.get(pk=self.campaign.pk).status, "open")

    def test_a_manager_edits_the_commitments_of_its_own_unit(self):
        self.login(self.manager_a)
        url = f"/manage/campaigns/{self.campaign.pk}/units/{self.window_a.pk}/commitments/"
        self.assertEqual(self.client.get(url).status_code, 200)
        self.client.post(url, {"text": "当场办结\n\n一次告知  \n"})
        self.assertEqual(
            list(Commitment.objects.values_list("text", flat=True)),
            ["当场办结", "一次告知"],
        )

    def test_a_manager_cannot_edit_another_units_commitments(self):
        self.login(self.manager_a)
        url = (
            f"/manage/campaigns/{self.campaign.pk}/units/{self.unit_b.pk}/commitments/"
        )
        self.assertEqual(self.client.get(url).status_code, 404)
        self.assertEqual(self.client.post(url, {"text": "越权"}).status_code, 404)
        self.assertFalse(Commitment.objects.exists())

    def test_an_overlong_commitment_is_refused(self):
        self.login(self.manager_a)
        url = f"/manage/campaigns/{self.campaign.pk}/units/{self.window_a.pk}/commitments/"
        response = self.client.post(url, {"text": "长" * 301})
        self.assertContains(response, "300")
        self.assertFalse(Commitment.objects.exists())

    def test_qr_codes_decode_to_the_points_url(self):
        import zxingcpp
        from PIL import Image

        self.login(self.manager_a)
        response = self.client.get(f"/manage/points/{self.point_a.pk}/qr.png")
        self.assertEqual(response["Content-Type"], "image/png")
        decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(response.content)))
        self.assertEqual([d.text for d in decoded], [self.point_a.public_url])
        svg = self.client.get(f"/manage/points/{self.point_a.pk}/qr.svg")
        self.assertEqual(svg["Content-Type"], "image/svg+xml")
        self.assertIn(b"<svg", svg.content)

    def test_a_manager_cannot_fetch_another_units_qr_or_poster(self):
        self.login(self.manager_a)
        for suffix in ("qr.png", "qr.svg", "poster.pdf"):
            self.assertEqual(
                self.client.get(
                    f"/manage/points/{self.point_b.pk}/{suffix}"
                ).status_code,
                404,
            )

    def test_a_poster_names_the_organiser_and_when_the_round_closes(self):
        """So that a poster left on a wall after the round does not look live."""
        from pypdf import PdfReader

        self.login(self.leader)
        poster = self.client.get(f"/manage/points/{self.point_a.pk}/poster.pdf")
        (page,) = PdfReader(io.BytesIO(poster.content)).pages
        text = page.extract_text().replace("\n", "")
        closes = timezone.localtime(self.campaign.closes_at)
        self.assertIn(self.school.name, text)
        self.assertIn(f"{closes.year}年{closes.month}月{closes.day}日", text)
        self.assertIn(f"{closes:%H:%M}", text)

    def test_posters_are_pdfs_one_page_per_point(self):
        from pypdf import PdfReader

        self.login(self.leader)
        single = self.client.get(f"/manage/points/{self.point_a.pk}/poster.pdf")
        self.assertEqual(single["Content-Type"], "application/pdf")
        self.assertEqual(len(PdfReader(io.BytesIO(single.content)).pages), 1)
        everything = self.client.get(
            f"/manage/campaigns/{self.campaign.pk}/posters.pdf"
        )
        self.assertEqual(
            len(PdfReader(io.BytesIO(everything.content)).pages),
            self.campaign.points.count(),
        )
        self.login(self.manager_b)
        mine = self.client.get(f"/manage/campaigns/{self.campaign.pk}/posters.pdf")
        self.assertEqual(len(PdfReader(io.BytesIO(mine.content)).pages), 2)  # B and B-1


class BallotPageTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.campaign = make_round(
            cls.school, mode="ballot", kinds={"branch": "wuhao-branch"}
        )
        cls.point = point_of(cls.campaign, cls.branch_a)

    def test_the_office_issues_ballots_as_a_pdf_of_slips(self):
        from pypdf import PdfReader

        self.login(self.leader)
        response = self.client.post(
            f"/manage/points/{self.point.pk}/ballots/", {"count": 10}
        )
        self.assertEqual(response["Content-Type"], "application/pdf")
        self.assertEqual(BallotCode.objects.filter(point=self.point).count(), 10)
        self.assertEqual(
            len(PdfReader(io.BytesIO(response.content)).pages), 2
        )  # 8 slips a page

    def test_managers_cannot_issue_ballots(self):
        self.login(self.manager_a)
        response = self.client.post(
            f"/manage/points/{self.point.pk}/ballots/", {"count": 10}
        )
        self.assertEqual(response.status_code, 403)
        self.assertFalse(BallotCode.objects.exists())

    def test_no_ballot_exists_when_the_pdf_cannot_be_built(self):
        self.login(self.leader)
        with mock.patch(
            "questionnaires.ballots.slips_pdf", side_effect=OSError("disk full")
        ):
            with self.assertRaises(OSError):
                self.client.post(
                    f"/manage/points/{self.point.pk}/ballots/", {"count": 10}
                )
        self.assertFalse(BallotCode.objects.exists())

    def test_a_bad_count_issues_nothing(self):
        self.login(self.leader)
        for count in ("0", "-3", "abc", "20001"):
            self.client.post(
                f"/manage/points/{self.point.pk}/ballots/", {"count": count}
            )
        self.assertFalse(BallotCode.objects.exists())


class PointCountTests(PersonaTestCase):
    def test_counts_of_ballots_and_responses_are_exact(self):
        from questionnaires.services import ballots_issue, response_submit

        from .helpers import full_answers

        campaign = make_round(
            self.school, mode="ballot", kinds={"branch": "wuhao-branch"}
        )
        point = point_of(campaign, self.branch_a)
        codes = ballots_issue(point=point, count=3)
        for i, code in enumerate(codes[:2]):
            response_submit(
                point=point,
                answers=full_answers(point),
                nonce=f"count-test-{i:010d}",
                ballot=code,
                client_address="x",
            )
        row = campaign.points.filter(pk=point.pk).with_counts(responses=True).get()
        self.assertEqual((row.n_ballots, row.n_used, row.n_responses), (3, 2, 2))
        api = (
            self.api(self.leader)
            .get(f"/api/v1/campaigns/{campaign.pk}/points/")
            .json()["results"]
        )
        item = next(p for p in api if p["id"] == point.pk)
        self.assertEqual((item["ballots_issued"], item["ballots_used"]), (3, 2))


class DraftCommitmentTests(PersonaTestCase):
    """A draft has no points yet: the managers of the units that would take part
    see it and enter their commitments; no one else, and no unit that does not
    take part (excluded, or of a kind the round does not evaluate)."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.draft = make_round(
            cls.school,
            title="春季草稿",
            open_it=False,
            kinds={"branch": "wuhao-branch"},
        )
        cls.page_url = f"/manage/campaigns/{cls.draft.pk}/"

    def commitments_url(self, campaign, unit) -> str:
        return f"/manage/campaigns/{campaign.pk}/units/{unit.pk}/commitments/"

    def test_a_manager_sees_the_draft_with_its_commitments_link_only(self):
        self.login(self.manager_a)
        self.assertContains(self.client.get("/manage/campaigns/"), "春季草稿")
        page = self.client.get(self.page_url)
        self.assertContains(page, "<h1>春季草稿</h1>", html=True)
        self.assertContains(page, "编辑承诺")
        self.assertContains(page, self.commitments_url(self.draft, self.branch_a))
        self.assertNotContains(page, self.commitments_url(self.draft, self.branch_b))
        for office_only in ("开启评议", "修改轮次设置", "preview-branch", "/edit/"):
            self.assertNotContains(page, office_only)

    def test_a_reviewer_reads_the_draft_without_editing(self):
        self.login(self.reviewer)
        page = self.client.get(self.page_url)
        self.assertContains(page, "春季草稿")
        self.assertNotContains(page, "编辑承诺")
        self.assertNotContains(page, "开启评议")

    def test_a_manager_enters_the_drafts_commitments(self):
        self.login(self.manager_a)
        response = self.client.post(
            self.commitments_url(self.draft, self.branch_a), {"text": "每周公开进度"}
        )
        self.assertRedirects(response, self.page_url)
        self.assertEqual(
            list(Commitment.objects.values_list("campaign", "unit", "text")),
            [(self.draft.pk, self.branch_a.pk, "每周公开进度")],
        )

    def test_a_unit_of_a_kind_the_round_does_not_evaluate_is_refused(self):
        self.login(self.manager_a)
        open_round = make_round(
            self.school, title="支部评议", kinds={"branch": "wuhao-branch"}
        )
        for campaign in (self.draft, open_round):
            for unit in (self.unit_a, self.window_a):
                url = self.commitments_url(campaign, unit)
                self.assertEqual(self.client.get(url).status_code, 404, url)
                self.assertEqual(
                    self.client.post(url, {"text": "不参加"}).status_code, 404, url
                )
        self.assertFalse(Commitment.objects.exists())

    def test_an_excluded_unit_is_refused_and_its_manager_does_not_see_the_draft(self):
        self.draft.excluded_units.add(self.branch_b)
        excluded_open = make_round(
            self.school,
            title="乙不参加",
            open_it=False,
            kinds={"branch": "wuhao-branch"},
        )
        excluded_open.excluded_units.add(self.branch_b)
        campaign_open(campaign=excluded_open)
        self.login(self.leader)  # even the office enters none for it
        for campaign in (self.draft, excluded_open):
            url = self.commitments_url(campaign, self.branch_b)
            self.assertEqual(self.client.get(url).status_code, 404, url)
            self.assertEqual(self.client.post(url, {"text": "x"}).status_code, 404)
        self.assertFalse(Commitment.objects.exists())
        self.login(self.manager_b)
        self.assertEqual(self.client.get(self.page_url).status_code, 404)
        self.assertNotContains(self.client.get("/manage/campaigns/"), "春季草稿")
        # A-1 still takes part: A's manager still sees it.
        self.login(self.manager_a)
        self.assertEqual(self.client.get(self.page_url).status_code, 200)

    def test_a_draft_of_another_organiser_stays_hidden(self):
        # A's own draft: B's units are not under A, so B's manager never sees it.
        own = make_round(
            self.unit_a,
            title="甲学院草稿",
            open_it=False,
            kinds={"branch": "wuhao-branch"},
        )
        self.login(self.manager_b)
        self.assertEqual(
            self.client.get(f"/manage/campaigns/{own.pk}/").status_code, 404
        )
        self.login(self.manager_a)
        self.assertEqual(
            self.client.get(f"/manage/campaigns/{own.pk}/").status_code, 200
        )
