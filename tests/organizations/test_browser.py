"""The forms every management page shares, and the unit import, in a real browser:
headless Chromium on a desktop screen, zh-CN (see tests/browser.py).

The office logs in, imports a units file with a bad row (the error page lists it
and nothing is written), fixes the file and imports it again from the error page,
switches the interface to English and back, and signs out.
"""

from __future__ import annotations

from django.contrib.sessions.models import Session
from playwright.sync_api import expect

from organizations.models import Membership, Unit
from tests.base import make_unit, make_user
from tests.browser import BrowserTestCase

HEADER = "code,name,kind,category,parent_code\n"
BAD = HEADER + "C,丙学院党委,committee,teaching,S\nC-1,,branch,student,C\n"
GOOD = (
    HEADER
    + "C,丙学院党委,committee,teaching,S\nC-1,丙学院学生党支部,branch,student,C\n"
)


def csv_file(text: str) -> dict:
    return {"name": "units.csv", "mimeType": "text/csv", "buffer": text.encode()}


class SharedFormsBrowserTests(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        school = make_unit("S", Unit.Kind.SCHOOL, name="测试大学")
        make_unit("A", Unit.Kind.COMMITTEE, school, "teaching", name="甲学院党委")
        make_user("office", Membership.Role.OFFICE, school)

    def url(self, path: str) -> str:
        return f"{self.live_server_url}{path}"

    def click(self, page, name: str) -> None:
        with page.expect_navigation():
            page.get_by_role("button", name=name, exact=True).click()

    def test_import_language_and_logout(self):
        page = self.desktop()
        self.log_in(page, "office")
        expect(page.locator("h1")).to_have_text("工作台")

        # A file with a bad row: every row is refused, the error page says which.
        page.goto(self.url("/manage/units/"))
        page.locator("input[type=file][name=file]").set_input_files(csv_file(BAD))
        self.click(page, "导入")
        self.assertEqual(page.url, self.url("/manage/units/import/"))
        expect(page.locator("h1")).to_have_text("导入失败，未写入任何数据")
        expect(page.locator("ul.errors")).to_contain_text("第 3 行")
        expect(page.locator("ul.errors")).to_contain_text("名称为空")
        self.assertFalse(Unit.objects.filter(code__in=["C", "C-1"]).exists())

        # The error page's own form takes the corrected file.
        page.locator("input[type=file][name=file]").set_input_files(csv_file(GOOD))
        self.click(page, "修改后重新导入")
        self.assertEqual(page.url, self.url("/manage/units/"))
        expect(page.locator("ul.messages")).to_contain_text("导入成功：新增 2 个")
        branch = Unit.objects.get(code="C-1")
        self.assertEqual(
            (branch.name, branch.kind, branch.parent.code),
            ("丙学院学生党支部", "branch", "C"),
        )
        expect(page.locator("table")).to_contain_text("丙学院学生党支部")

        # The footer's language switch: English, on the same page, and back.
        page.locator("select[name=language]").select_option("en")
        self.click(page, "切换")
        self.assertEqual(page.url, self.url("/manage/units/"))
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("h1")).to_have_text("Units")
        expect(page.get_by_role("heading", name="Import units")).to_be_visible()
        page.locator("select[name=language]").select_option("zh-hans")
        self.click(page, "Switch")
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
        expect(page.locator("h1")).to_have_text("单位")

        # Signing out ends the session.
        self.assertEqual(Session.objects.count(), 1)
        self.click(page, "退出（office）")
        self.assertEqual(page.url, self.url("/"))
        expect(page.get_by_role("link", name="管理人员登录")).to_be_visible()
        self.assertEqual(Session.objects.count(), 0)
        page.goto(self.url("/manage/units/"))
        self.assertTrue(page.url.startswith(self.url("/accounts/login/")))
