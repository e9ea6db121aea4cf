"""The forms every management page shares, and the unit import, in a real browser:
headless Chromium on a desktop screen, zh-CN (see tests/browser.py).

The office logs in, imports a units file with a bad row (the error page lists it
and nothing is written), fixes the file and imports it again from the error page,
switches the interface to English and back with the header's switch, and
signs out.
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

        # The header's language switch, each language by its own name: English,
        # on the same page, and back.
        switch = page.locator("header form.lang-switch")
        expect(switch.get_by_role("button", name="中文")).to_be_disabled()
        self.click(page, "English")
        self.assertEqual(page.url, self.url("/manage/units/"))
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("h1")).to_have_text("Units")
        expect(page.get_by_role("heading", name="Import units")).to_be_visible()
        expect(switch.get_by_role("button", name="English")).to_be_disabled()
        self.click(page, "中文")
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

    def test_the_header_fits_a_phone_and_switches_language_without_javascript(self):
        # 375 px wide, scripts off: every link and button of the header on one
        # line of its own (no "整改台/账"), the page no wider than the screen.
        page = self.phone(js=False)
        self.log_in(page, "office")
        for element in page.locator(
            "header .brand, header nav a, header nav button, header .lang-switch button"
        ).all():
            text = element.inner_text()
            fits = element.evaluate(
                "e => e.getBoundingClientRect().height"
                " < 1.5 * parseFloat(getComputedStyle(e).lineHeight)"
            )
            self.assertTrue(fits, f"{text!r} wraps in the header")
        self.assertLessEqual(page.evaluate("document.documentElement.scrollWidth"), 375)
        self.click(page, "English")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        self.click(page, "中文")
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
