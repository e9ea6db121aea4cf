"""Accounts and roles in a real browser: headless Chromium on a desktop screen,
zh-CN (see tests/browser.py).

The office creates an account (a duplicate 工号 refused first), reads its one-time
password off the page, gives it a role and takes it away, deactivates and
reactivates it, and resets its password; the account logs in with the one-time
password, is sent to change it, and goes on. The office imports accounts from a
file (a bad file refused first) and downloads their passwords once. A unit
manager changes its own password on 我的账户.
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from organizations.models import AccountProfile, Membership, Unit
from tests.base import make_unit, make_user
from tests.browser import BrowserTestCase

User = get_user_model()
HEADER = "工号,姓名,单位编码,角色,邮箱,手机\n"
BAD = HEADER + "t3001,王五,A-1,管理员,,\nt3002,赵六,NOPE,查阅人,,\n"
GOOD = HEADER + "t3001,王五,A-1,管理员,,\nt3002,赵六,A,查阅人,,13900139000\n"


def csv_file(text: str) -> dict:
    return {"name": "people.csv", "mimeType": "text/csv", "buffer": text.encode()}


class PeopleBrowserTests(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        school = make_unit("S", Unit.Kind.SCHOOL, name="测试大学")
        self.committee = make_unit(
            "A", Unit.Kind.COMMITTEE, school, "teaching", name="甲学院党委"
        )
        self.branch = make_unit(
            "A-1", Unit.Kind.BRANCH, self.committee, "student", name="甲学院学生党支部"
        )
        make_user("office", Membership.Role.OFFICE, school)
        make_user("t1001", Membership.Role.MANAGER, self.branch)

    def url(self, path: str) -> str:
        return f"{self.live_server_url}{path}"

    def click(self, page, name: str) -> None:
        with page.expect_navigation():
            page.get_by_role("button", name=name, exact=True).click()

    def test_the_office_runs_an_account_from_creation_to_first_login(self):
        office = self.desktop()
        self.log_in(office, "office")
        with office.expect_navigation():
            office.get_by_role("link", name="我的账户").click()
        with office.expect_navigation():
            office.get_by_role("link", name="管理人员与角色").click()
        expect(office.locator("h1")).to_have_text("人员与角色")
        with office.expect_navigation():
            office.get_by_role("link", name="新建账户").click()

        # A 工号 that has an account already: refused at the field, nothing made.
        office.fill("#id_name", "李四")
        office.fill("#id_username", "T1001")
        office.fill("#id_email", "lisi@example.edu.cn")
        office.fill("#id_phone", "13800138000")
        office.select_option("#id_role", "manager")
        office.select_option("#id_unit", str(self.branch.pk))
        self.click(office, "建立账户")
        expect(office.locator(".errorlist")).to_contain_text("工号 T1001 已有账户。")
        self.assertFalse(User.objects.filter(first_name="李四").exists())

        office.fill("#id_username", "t2002")
        self.click(office, "建立账户")
        expect(office.locator("h1")).to_have_text("账户已建立")
        password = office.locator("#one-time-password").inner_text()
        user = User.objects.get(username="t2002")
        self.assertTrue(user.check_password(password))
        self.assertEqual(
            list(user.memberships.values_list("unit__code", "role")),
            [("A-1", "manager")],
        )

        # A second role, then taken away again.
        with office.expect_navigation():
            office.get_by_role("link", name="查看账户").click()
        office.select_option("#id_role", "reviewer")
        office.select_option("#id_unit", str(self.committee.pk))
        self.click(office, "分配")
        expect(office.locator("ul.messages")).to_contain_text("已分配角色")
        expect(office.locator("#memberships")).to_contain_text("查阅人")
        with office.expect_navigation():
            office.locator("#memberships tr", has_text="查阅人").get_by_role(
                "button", name="移除"
            ).click()
        expect(office.locator("ul.messages")).to_contain_text("已移除角色")
        self.assertEqual(user.memberships.count(), 1)

        # Deactivated, then active again.
        self.click(office, "停用账户")
        expect(office.locator("#account-status")).to_contain_text("停用")
        user.refresh_from_db()
        self.assertFalse(user.is_active)
        self.click(office, "重新启用账户")
        expect(office.locator("#account-status")).to_contain_text("启用")
        user.refresh_from_db()
        self.assertTrue(user.is_active)

        # A reset: a new one-time password, the first one void.
        self.click(office, "重置密码")
        expect(office.locator("h1")).to_have_text("密码已重置")
        new_password = office.locator("#one-time-password").inner_text()
        self.assertNotEqual(new_password, password)

        # The account logs in with it and must choose its own first.
        person = self.desktop()
        self.log_in(person, "t2002", new_password)
        self.assertEqual(person.url, self.url("/manage/account/?next=%2Fmanage%2F"))
        expect(person.locator("#must-change")).to_be_visible()
        person.goto(self.url("/manage/campaigns/"))
        self.assertTrue(person.url.startswith(self.url("/manage/account/")))
        person.goto(self.url("/manage/account/?next=/manage/"))
        person.fill("#id_old_password", new_password)
        person.fill("#id_new_password1", "123")
        person.fill("#id_new_password2", "123")
        self.click(person, "修改密码")
        expect(person.locator(".errorlist").first).to_be_visible()
        person.fill("#id_old_password", new_password)
        person.fill("#id_new_password1", "Li-Si-Branch-2026")
        person.fill("#id_new_password2", "Li-Si-Branch-2026")
        self.click(person, "修改密码")
        self.assertEqual(person.url, self.url("/manage/"))
        expect(person.locator("ul.messages")).to_contain_text("密码已修改。")
        self.assertFalse(AccountProfile.objects.get(user=user).must_change_password)
        person.goto(self.url("/manage/campaigns/"))
        self.assertEqual(person.url, self.url("/manage/campaigns/"))

    def test_the_office_imports_accounts_and_downloads_their_passwords_once(self):
        office = self.desktop()
        self.log_in(office, "office")
        office.goto(self.url("/manage/people/"))
        with office.expect_navigation():
            office.get_by_role("link", name="从文件导入账户").click()
        office.locator("input[type=file][name=file]").set_input_files(csv_file(BAD))
        self.click(office, "导入")
        expect(office.locator("h1")).to_have_text("导入失败，未写入任何数据")
        expect(office.locator("#import-errors")).to_contain_text(
            "第 3 行（t3002）：单位编码 NOPE 不存在。"
        )
        self.assertFalse(User.objects.filter(username__in=["t3001", "t3002"]).exists())

        office.locator("input[type=file][name=file]").set_input_files(csv_file(GOOD))
        self.click(office, "修改后重新导入")
        expect(office.locator("h1")).to_have_text("导入成功")
        rows = office.locator("#one-time-passwords tbody tr")
        expect(rows).to_have_count(2)
        shown = {
            rows.nth(i).locator("td").first.inner_text(): rows.nth(i)
            .locator(".one-time-password")
            .inner_text()
            for i in range(2)
        }
        for username, password in shown.items():
            self.assertTrue(
                User.objects.get(username=username).check_password(password)
            )

        with office.expect_download() as download:
            office.locator("#download-passwords").click()
        text = Path(download.value.path()).read_text(encoding="utf-8-sig")
        self.assertIn(f"t3001,王五,{shown['t3001']}", text)
        self.assertIn(f"t3002,赵六,{shown['t3002']}", text)
        office.goto(self.url("/manage/people/import/passwords.csv"))
        expect(office.locator("h1")).to_have_text("临时密码文件已失效")

    def test_a_manager_changes_its_own_password(self):
        page = self.desktop()
        self.log_in(page, "t1001")
        with page.expect_navigation():
            page.get_by_role("link", name="我的账户").click()
        expect(page.locator("h1")).to_have_text("我的账户")
        expect(page.get_by_text("甲学院学生党支部（A-1）· 单位管理员")).to_be_visible()
        page.fill("#id_old_password", "pw-t1001")
        page.fill("#id_new_password1", "Zhibu-Shuji-2026")
        page.fill("#id_new_password2", "Zhibu-Shuji-2026")
        self.click(page, "修改密码")
        expect(page.locator("ul.messages")).to_contain_text("密码已修改。")
        self.click(page, "退出（t1001）")
        self.log_in(page, "t1001", "Zhibu-Shuji-2026")
