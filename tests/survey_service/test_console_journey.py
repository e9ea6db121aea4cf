"""The office runs a round from the browser alone, on a database with only units.

Headless Chromium (tests/browser.py). A fresh database holds the school's units
(loaded from a CSV file, as `import_units` or the units page would) and one office
account. Using pages only — the test fails if the browser asks for anything under
/admin/ or /api/ — the office copies the 五好 branch questionnaire, edits one
question, publishes the copy, creates a round with it, creates a unit manager's
account and gives it its unit, previews the respondent page, opens the round and
downloads the posters. The manager then logs in with the one-time password, is
made to choose a password of its own, enters two commitments, and a student's
phone shows them on the unit's respondent page with the edited question.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from django.utils import timezone
from playwright.sync_api import expect

from organizations.models import Membership, Unit
from organizations.services import units_import
from questionnaires.forms_spec import form_spec
from questionnaires.models import Campaign, CollectionPoint, Commitment, Questionnaire
from tests.base import make_user
from tests.browser import BrowserTestCase
from tests.questionnaires.helpers import accepted

UNITS_CSV = """code,name,kind,category,parent_code
S,测试大学,school,,
A,甲学院党委,committee,teaching,S
A-1,甲学院学生党支部,branch,student,A
A-2,甲学院教工党支部,branch,staff,A
B,乙学院党委,committee,teaching,S
B-1,乙学院学生党支部,branch,student,B
"""
EDITED = "党员在学习工作中起先锋模范作用（本校修订）"
COMMITMENTS = ["每周三下午书记接待日", "办事结果三个工作日内答复"]
NEW_PASSWORD = "Xuanyuan-2026-qiu"


class ConsoleJourneyTests(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        units_import(data=UNITS_CSV.encode(), filename="units.csv")
        make_user("office", Membership.Role.OFFICE, Unit.objects.get(code="S"))
        self.requested: list[str] = []

    def watched(self, page):
        page.on("request", lambda request: self.requested.append(request.url))
        return page

    def go(self, page, link: str, *, within: str = "body") -> None:
        with page.expect_navigation():
            page.locator(within).get_by_role(
                "link", name=link, exact=True
            ).first.click()

    def press(self, page, button: str, *, within: str = "main") -> None:
        with page.expect_navigation():
            page.locator(within).get_by_role("button", name=button, exact=True).click()

    def test_the_office_runs_a_round_from_the_pages_alone(self):
        office = self.watched(self.desktop())
        self.log_in(office, "office")

        # The questionnaire: copy the built-in 五好 branch template, edit, publish.
        self.go(office, "问卷", within="header")
        with office.expect_navigation():
            office.locator("#q-wuhao-branch-1").get_by_role("link", name="复制").click()
        self.press(office, "复制为新问卷")
        draft = Questionnaire.objects.get(published_at__isnull=True)
        question = draft.questions.get(code="members_vanguard")
        with office.expect_navigation():
            office.locator("#question-members_vanguard").get_by_role(
                "link", name="修改"
            ).click()
        office.fill("#id_text", EDITED)
        self.press(office, "保存题目")
        expect(office.locator("#question-members_vanguard")).to_contain_text(EDITED)
        self.go(office, "发布", within="main")
        self.press(office, "确认发布")
        copy = Questionnaire.objects.get(key=draft.key, version=draft.version)
        self.assertIsNotNone(copy.published_at)
        self.assertEqual(
            copy.questions.get(code=question.code).text, EDITED, "the edit was kept"
        )

        # The round: with the copy for 党支部, the built-in one for 二级党组织.
        self.go(office, "评议轮次", within="header")
        self.go(office, "新建轮次", within="main")
        office.fill("#id_title", "2026 年秋季群众评议")
        opens = timezone.localtime() - timedelta(hours=1)
        office.fill("#id_opens_at", opens.strftime("%Y-%m-%dT%H:%M"))
        office.fill(
            "#id_closes_at", (opens + timedelta(days=14)).strftime("%Y-%m-%dT%H:%M")
        )
        office.locator("#id_questionnaire_branch").select_option(
            label=f"{copy.title} v{copy.version}"
        )
        office.locator("#id_questionnaire_committee").select_option(index=1)
        self.press(office, "新建轮次")
        campaign = Campaign.objects.get(title="2026 年秋季群众评议")
        round_url = f"{self.live_server_url}/manage/campaigns/{campaign.pk}/"
        self.assertEqual(office.url, round_url)

        # The manager's account, with its unit.
        self.go(office, "人员", within="header")
        self.go(office, "新建账户", within="main")
        office.fill("#id_name", "王书记")
        office.fill("#id_username", "20260042")
        office.locator("#id_role").select_option("manager")
        office.locator("#id_unit").select_option(str(Unit.objects.get(code="A-1").pk))
        self.press(office, "建立账户")
        one_time = office.locator("#one-time-password").inner_text().strip()
        self.assertTrue(one_time)
        self.assertTrue(
            Membership.objects.filter(
                user__username="20260042", unit__code="A-1", role="manager"
            ).exists()
        )

        # Preview, open, posters.
        office.goto(round_url)
        with office.expect_navigation():
            office.locator("#preview-branch").click()
        expect(office.locator("main")).to_contain_text("预览")
        expect(office.locator("main")).to_contain_text(EDITED)
        office.goto(round_url)
        with office.expect_navigation():
            office.locator("#open-link").click()
        self.press(office, "确认开启评议（生成二维码）")
        campaign.refresh_from_db()
        self.assertEqual(campaign.status, "open")
        # Posters open in the browser's PDF viewer (inline), to be printed there.
        href = office.locator("#posters-link").get_attribute("href")
        posters = office.request.get(f"{self.live_server_url}{href}")
        self.requested.append(f"{self.live_server_url}{href}")
        self.assertEqual(posters.headers["content-type"], "application/pdf")
        self.assertEqual(posters.body()[:5], b"%PDF-")

        # The manager: the one-time password, a password of its own, commitments.
        manager = self.watched(self.desktop())
        self.log_in(manager, "20260042", one_time)
        self.assertEqual(urlsplit(manager.url).path, "/manage/account/")
        expect(manager.locator("#must-change")).to_be_visible()
        manager.fill("#id_old_password", one_time)
        manager.fill("#id_new_password1", NEW_PASSWORD)
        manager.fill("#id_new_password2", NEW_PASSWORD)
        self.press(manager, "修改密码")
        self.go(manager, "工作台", within="header")
        with manager.expect_navigation():
            manager.locator("#my-commitments").get_by_role(
                "link", name="填写承诺"
            ).click()
        manager.fill("textarea", "\n".join(COMMITMENTS))
        self.press(manager, "保存")
        unit = Unit.objects.get(code="A-1")
        self.assertEqual(
            list(
                Commitment.objects.filter(campaign=campaign, unit=unit).values_list(
                    "text", flat=True
                )
            ),
            COMMITMENTS,
        )

        # A student's phone: the commitments and the edited question.
        point = CollectionPoint.objects.get(campaign=campaign, unit=unit)
        student = self.watched(self.phone())
        student.goto(f"{self.live_server_url}/s/{point.token}/")
        for text in [*COMMITMENTS, EDITED]:
            expect(student.locator("main")).to_contain_text(text)
        # … and answers the round's own questionnaire.
        for question in form_spec(point.questionnaire).questions:
            card = student.locator(f"#q{question.id}")
            if question.kind == "scale":
                card.get_by_role(
                    "radio", name=question.levels[0].label, exact=True
                ).tap()
            elif question.kind in ("single", "multiple"):
                card.get_by_role(
                    "radio" if question.kind == "single" else "checkbox",
                    name=question.options[0].label,
                ).tap()
        with student.expect_navigation(url="**/done/"):
            student.get_by_role("button", name="提交").tap()
        self.assertEqual(accepted(point), 1)

        self.assertIn(f"{self.live_server_url}/manage/people/", self.requested)
        touched = [
            url
            for url in self.requested
            if urlsplit(url).path.startswith(("/admin/", "/api/"))
        ]
        self.assertEqual(touched, [], "the journey used the admin or the API")
