"""A round's management pages in a real browser: headless Chromium on a desktop
screen, zh-CN (see tests/browser.py). The respondent pages are in
test_respond_browser.py.

The office opens a draft ballot round, issues ballot slips (a PDF download), a unit
manager edits the commitments of its unit, and the office closes the round and
publishes its results, each from the button on the round's page and its
confirmation page, and issues the ballots of all points in one PDF. The office
also creates a round with the form, one refusal first, edits it (excluding a
unit), previews the respondent page, opens it and fetches the posters.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from organizations.models import Membership, Unit
from questionnaires.models import (
    BallotCode,
    Campaign,
    CampaignQuestionnaire,
    CollectionPoint,
    Commitment,
)
from tests.base import make_unit, make_user
from tests.browser import BrowserTestCase

from .helpers import make_round, point_of


class RoundBrowserTests(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        school = make_unit("S", Unit.Kind.SCHOOL, name="测试大学")
        committee = make_unit(
            "A", Unit.Kind.COMMITTEE, school, "teaching", name="甲学院党委"
        )
        self.branch = make_unit(
            "A-1", Unit.Kind.BRANCH, committee, "student", name="甲学院学生党支部"
        )
        self.window = make_unit(
            "A-W", Unit.Kind.WINDOW, self.branch, name="甲学院学生事务服务窗口"
        )
        make_user("office", Membership.Role.OFFICE, school)
        make_user("manager", Membership.Role.MANAGER, committee)
        self.campaign = make_round(
            school,
            title="2026 年秋季一人一票评议",
            mode="ballot",
            open_it=False,
            kinds={"branch": "wuhao-branch", "window": "window"},
        )
        self.page_url = f"{self.live_server_url}/manage/campaigns/{self.campaign.pk}/"

    def press(self, page, button: str) -> None:
        with page.expect_navigation():
            page.get_by_role("button", name=button, exact=True).click()
        self.assertEqual(page.url, self.page_url)

    def confirm(self, page, move: str) -> None:
        """A move of the round: its link, then the button on its confirmation page."""
        with page.expect_navigation():
            page.get_by_role("link", name=move, exact=True).click()
        expect(page.locator("h1")).to_have_text(move)
        self.press(page, f"确认{move}")

    def assert_status(self, page, status: str) -> None:
        self.campaign.refresh_from_db()
        self.assertEqual(self.campaign.status, status)
        expect(page.locator("h1 + p .badge")).to_have_text(
            str(Campaign.Status(status).label)
        )

    def test_a_round_from_draft_to_published(self):
        office = self.desktop()
        self.log_in(office, "office")
        office.goto(self.page_url)
        self.assert_status(office, "draft")
        expect(office.locator("#points")).to_contain_text("轮次开启后")

        # Opening makes a point (and a QR code) for every evaluated unit.
        self.confirm(office, "开启评议（生成二维码）")
        self.assert_status(office, "open")
        expect(office.locator("ul.messages")).to_contain_text(
            "已开启评议，生成了 2 个评议点和二维码。"
        )
        self.assertEqual(
            set(
                CollectionPoint.objects.filter(campaign=self.campaign).values_list(
                    "unit__code", flat=True
                )
            ),
            {"A-1", "A-W"},
        )
        point = point_of(self.campaign, self.branch)
        row = office.locator("tbody tr", has_text=self.branch.name)
        expect(row).to_contain_text(point.public_url)

        # Ballot slips: the answer is a PDF, which the browser downloads.
        row.locator("input[name=count]").fill("12")
        with office.expect_download() as download:
            row.get_by_role("button", name="发放选票").click()
        path = Path(download.value.path())
        self.assertEqual(path.read_bytes()[:4], b"%PDF")
        self.assertEqual(download.value.suggested_filename, f"ballots-{point.pk}.pdf")
        self.assertEqual(BallotCode.objects.filter(point=point).count(), 12)
        office.reload()
        expect(office.locator("tbody tr", has_text=self.branch.name)).to_contain_text(
            "0/12"
        )

        # Ballots for every point at once: a count for the round, one override,
        # one PDF; a total over the limit is refused on the page first.
        with office.expect_navigation():
            office.get_by_role("link", name="发放选票（全部评议点）").click()
        expect(office.get_by_label("每个评议点的张数")).to_have_value("30")
        office.get_by_label("每个评议点的张数").fill("15000")
        with office.expect_navigation():
            office.get_by_role("button", name="发放并下载选票 PDF").click()
        expect(office.locator("#ballot-errors")).to_contain_text("本次合计 30000 张")
        self.assertEqual(BallotCode.objects.count(), 12)
        office.get_by_label("每个评议点的张数").fill("30")
        office.get_by_label(self.window.name).fill("5")
        with office.expect_download() as download:
            office.get_by_role("button", name="发放并下载选票 PDF").click()
        self.assertEqual(Path(download.value.path()).read_bytes()[:4], b"%PDF")
        self.assertEqual(
            download.value.suggested_filename, f"ballots-round-{self.campaign.pk}.pdf"
        )
        self.assertEqual(BallotCode.objects.filter(point=point).count(), 12 + 30)
        window_point = point_of(self.campaign, self.window)
        self.assertEqual(BallotCode.objects.filter(point=window_point).count(), 5)
        office.goto(self.page_url)
        expect(office.locator("ul.messages")).to_contain_text("已发放 35 张选票")

        # The window's manager writes its commitments (shown to respondents).
        manager = self.desktop()
        self.log_in(manager, "manager")
        manager.goto(self.page_url)
        expect(manager.get_by_role("link", name="结束评议")).to_have_count(0)
        with manager.expect_navigation():
            manager.locator("tbody tr", has_text=self.window.name).get_by_role(
                "link", name="编辑承诺"
            ).click()
        expect(manager.locator("h1")).to_contain_text(self.window.name)
        manager.locator("textarea[name=text]").fill(
            "一次告知所需材料\n\n午间不停办  \n"
        )
        self.press(manager, "保存")
        expect(manager.locator("ul.messages")).to_contain_text("承诺已保存")
        self.assertEqual(
            list(
                Commitment.objects.filter(
                    campaign=self.campaign, unit=self.window
                ).values_list("text", flat=True)
            ),
            ["一次告知所需材料", "午间不停办"],
        )

        # Closing ends the answering and the ballots; publishing opens the results.
        office.reload()
        self.confirm(office, "结束评议")
        self.assert_status(office, "closed")
        expect(office.locator("ul.messages")).to_contain_text("已结束评议")
        expect(office.locator("input[name=count]")).to_have_count(0)
        self.confirm(office, "发布结果（各单位可见）")
        self.assert_status(office, "published")
        expect(office.locator("ul.messages")).to_contain_text("已发布结果")
        expect(office.get_by_text("结果已发布。")).to_be_visible()
        self.assertIsNotNone(self.campaign.published_at)


class NewRoundBrowserTests(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        school = make_unit("S", Unit.Kind.SCHOOL, name="测试大学")
        committee = make_unit(
            "A", Unit.Kind.COMMITTEE, school, "teaching", name="甲学院党委"
        )
        make_unit(
            "A-1", Unit.Kind.BRANCH, committee, "student", name="甲学院学生党支部"
        )
        make_unit("A-2", Unit.Kind.BRANCH, committee, "staff", name="甲学院教工党支部")
        make_user("office", Membership.Role.OFFICE, school)

    def test_the_office_creates_edits_and_opens_a_round(self):
        office = self.desktop()
        self.log_in(office, "office")
        office.goto(f"{self.live_server_url}/manage/campaigns/")
        with office.expect_navigation():
            office.get_by_role("link", name="新建轮次").click()
        expect(office.get_by_label("最小公布样本")).to_have_value("5")
        expect(office.get_by_label("满意率目标（%）")).to_have_value("95")
        office.get_by_label("标题").fill("2026 年秋季群众评议")
        office.get_by_label("开始时间").fill("2026-10-08T08:00")
        office.get_by_label("结束时间").fill("2026-10-01T18:00")
        office.get_by_label("党支部问卷").select_option(label="党支部“五好”群众评议 v1")

        # Closing before it opens: refused at the field, the values kept, nothing saved.
        with office.expect_navigation():
            office.get_by_role("button", name="新建轮次").click()
        expect(office.locator(".field-group", has_text="结束时间")).to_contain_text(
            "结束时间必须晚于开始时间。"
        )
        expect(office.get_by_label("标题")).to_have_value("2026 年秋季群众评议")
        self.assertFalse(Campaign.objects.exists())

        office.get_by_label("结束时间").fill("2026-10-22T18:00")
        with office.expect_navigation():
            office.get_by_role("button", name="新建轮次").click()
        campaign = Campaign.objects.get()
        self.assertEqual(
            office.url, f"{self.live_server_url}/manage/campaigns/{campaign.pk}/"
        )
        expect(office.locator("ul.messages")).to_contain_text("已新建轮次")

        # Edited while a draft: excluding every branch is refused, one is kept.
        with office.expect_navigation():
            office.get_by_role("link", name="修改轮次设置").click()
        expect(office.get_by_label("结束时间")).to_have_value("2026-10-22T18:00")
        office.get_by_label("满意率目标（%）").fill("90")
        office.get_by_label("说明").fill("面向全校师生")
        staff = office.get_by_label("不参加：甲学院教工党支部")
        student = office.get_by_label("不参加：甲学院学生党支部")
        staff.check()
        student.check()
        with office.expect_navigation():
            office.get_by_role("button", name="保存").click()
        expect(office.locator("#units")).to_contain_text("不能排除本轮的全部单位")
        student.uncheck()
        expect(staff).to_be_checked()
        with office.expect_navigation():
            office.get_by_role("button", name="保存").click()
        expect(office.locator("ul.messages")).to_contain_text("已保存轮次设置")
        campaign.refresh_from_db()
        self.assertEqual(str(campaign.target), "0.900")
        self.assertEqual(campaign.description, "面向全校师生")
        self.assertEqual(
            list(campaign.excluded_units.values_list("code", flat=True)), ["A-2"]
        )
        expect(office.locator("#round-facts")).to_contain_text("目标满意率 90%")
        expect(office.locator("#round-facts")).to_contain_text("2026年10月8日—10月22日")
        expect(office.locator("#excluded-units")).to_contain_text("甲学院教工党支部")

        # The branches' respondent page, previewed: marked, its button off.
        with office.expect_navigation():
            office.get_by_role("link", name="预览党支部评议页面").click()
        expect(office.locator("#preview-banner")).to_contain_text("预览")
        expect(office.locator("h1")).to_have_text("甲学院学生党支部")
        expect(
            office.get_by_role("button", name="提交（预览中不可提交）")
        ).to_be_disabled()
        with office.expect_navigation():
            office.locator("#preview-banner").get_by_role("link", name="返回").click()
        self.assertEqual(
            list(
                CampaignQuestionnaire.objects.filter(campaign=campaign).values_list(
                    "unit_kind", flat=True
                )
            ),
            ["branch"],
        )

        # Opened after its confirmation: a point for each branch.
        with office.expect_navigation():
            office.get_by_role("link", name="开启评议（生成二维码）").click()
        expect(office.locator("#explanation")).to_contain_text("生成评议点和二维码")
        with office.expect_navigation():
            office.get_by_role("button", name="确认开启评议（生成二维码）").click()
        expect(office.locator("ul.messages")).to_contain_text(
            "已开启评议，生成了 1 个评议点和二维码。"
        )
        expect(office.locator("tbody tr", has_text="甲学院学生党支部")).to_contain_text(
            "/s/"
        )
        expect(office.locator("tbody tr", has_text="甲学院教工党支部")).to_have_count(0)
        campaign.refresh_from_db()
        self.assertEqual(campaign.status, "open")
        self.assertEqual(campaign.points.count(), 1)

        # The posters of all points, from the round page's link.
        href = office.locator("#posters-link").get_attribute("href")
        self.assertEqual(href, f"/manage/campaigns/{campaign.pk}/posters.pdf")
        posters = office.request.get(f"{self.live_server_url}{href}")
        self.assertEqual(posters.headers["content-type"], "application/pdf")
        self.assertEqual(posters.body()[:4], b"%PDF")
