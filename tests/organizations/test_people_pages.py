"""The office's people pages (/manage/people/) and everyone's own account page
(/manage/account/), through the test client: every action, every refusal, the
office's scope, the import's all-or-nothing, and the forced password change."""

from __future__ import annotations

import io
import re

from django.contrib.auth import get_user_model
from django.test import Client
from openpyxl import Workbook
from rest_framework.authtoken.models import Token

from organizations.models import AccountProfile, Membership, Unit
from organizations.people_pages import IMPORT_KEEP_SECONDS, IMPORT_SESSION_KEY
from tests.base import PersonaTestCase, make_user

User = get_user_model()
Role = Membership.Role
PASSWORD = re.compile(r'id="one-time-password"[^>]*>([^<]+)<')


def csv_file(text: str, name: str = "people.csv") -> io.BytesIO:
    upload = io.BytesIO(text.encode("utf-8"))
    upload.name = name
    return upload


def one_time_password(response) -> str:
    match = PASSWORD.search(response.content.decode())
    assert match, "no one-time password on the page"
    return match[1]


def logged_in(username: str, password: str) -> Client:
    """A client logged in through the real login form."""
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": username, "password": password}
    )
    assert response.status_code == 302, f"{username} could not log in"
    return client


class PeopleTestCase(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.sub_office = make_user("office_a", Role.OFFICE, cls.unit_a)
        cls.teacher = make_user("t1001", Role.MANAGER, cls.branch_a)
        cls.teacher.first_name = "张三"
        cls.teacher.save()

    def counts(self) -> tuple[int, int, int]:
        return (
            User.objects.count(),
            Membership.objects.count(),
            AccountProfile.objects.count(),
        )


class PeopleListTests(PeopleTestCase):
    def test_it_lists_every_account_with_its_roles_for_the_school_office(self):
        self.login(self.leader)
        response = self.client.get("/manage/people/")
        self.assertEqual(response.status_code, 200)
        for username in ("leader", "manager_a", "manager_b", "reviewer", "t1001"):
            self.assertContains(response, f"<code>{username}</code>", html=True)
        self.assertContains(response, "甲学院学生党支部（A-1）· 单位管理员")

    def test_it_filters_by_unit_role_and_name(self):
        self.login(self.leader)
        page = self.client.get("/manage/people/", {"unit": self.unit_b.pk})
        self.assertContains(page, "<code>manager_b</code>", html=True)
        self.assertNotContains(page, "<code>manager_a</code>", html=True)
        page = self.client.get("/manage/people/", {"role": "reviewer"})
        self.assertContains(page, "<code>reviewer</code>", html=True)
        self.assertNotContains(page, "<code>leader</code>", html=True)
        page = self.client.get("/manage/people/", {"q": "张"})
        self.assertContains(page, "<code>t1001</code>", html=True)
        self.assertNotContains(page, "<code>reviewer</code>", html=True)
        page = self.client.get("/manage/people/", {"q": "manager_"})
        self.assertContains(page, "<code>manager_b</code>", html=True)
        self.assertNotContains(page, "<code>t1001</code>", html=True)

    def test_an_office_of_a_sub_tree_sees_only_the_accounts_within_it(self):
        self.login(self.sub_office)
        response = self.client.get("/manage/people/")
        for username in ("office_a", "manager_a", "t1001"):
            self.assertContains(response, f"<code>{username}</code>", html=True)
        for username in ("leader", "manager_b", "reviewer"):
            self.assertNotContains(response, f"<code>{username}</code>", html=True)
        # Its unit filter offers its own units only.
        self.assertNotContains(response, "乙机关党委")
        self.assertEqual(
            self.client.get(f"/manage/people/{self.manager_b.pk}/").status_code, 404
        )
        self.assertEqual(
            self.client.get(f"/manage/people/{self.leader.pk}/").status_code, 404
        )

    def test_an_account_with_a_role_outside_the_sub_tree_is_out_of_its_reach(self):
        Membership.objects.create(
            user=self.manager_a, unit=self.school, role="reviewer"
        )
        self.login(self.sub_office)
        response = self.client.get("/manage/people/")
        self.assertNotContains(response, "<code>manager_a</code>", html=True)
        response = self.client.post(
            f"/manage/people/{self.manager_a.pk}/reset-password/"
        )
        self.assertEqual(response.status_code, 404)

    def test_managers_and_reviewers_are_refused(self):
        for user in (self.manager_a, self.reviewer):
            self.login(user)
            self.assertEqual(self.client.get("/manage/people/").status_code, 403)
            self.assertEqual(self.client.get("/manage/people/new/").status_code, 403)

    def test_superusers_are_not_the_office_s_to_manage(self):
        root = User.objects.create_superuser("root", password="pw-root-123456")
        self.login(self.leader)
        self.assertNotContains(
            self.client.get("/manage/people/"), "<code>root</code>", html=True
        )
        response = self.client.post(f"/manage/people/{root.pk}/reset-password/")
        self.assertEqual(response.status_code, 404)


class CreateAccountTests(PeopleTestCase):
    def create(self, **fields):
        data = {
            "name": "李四",
            "username": "t2002",
            "email": "lisi@example.edu.cn",
            "phone": "13800138000",
            "role": "manager",
            "unit": self.branch_a.pk,
        }
        return self.client.post("/manage/people/new/", {**data, **fields})

    def test_it_creates_an_account_and_shows_its_one_time_password_once(self):
        self.login(self.leader)
        response = self.create()
        self.assertEqual(response.status_code, 200)
        password = one_time_password(response)
        self.assertRegex(password, r"^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$")
        user = User.objects.get(username="t2002")
        self.assertEqual((user.first_name, user.email), ("李四", "lisi@example.edu.cn"))
        self.assertEqual(user.account_profile.phone, "13800138000")
        self.assertTrue(user.account_profile.must_change_password)
        self.assertTrue(user.check_password(password))
        self.assertEqual(
            list(user.memberships.values_list("unit__code", "role")),
            [("A-1", "manager")],
        )
        # The account's page does not show it again.
        detail = self.client.get(f"/manage/people/{user.pk}/")
        self.assertNotContains(detail, password)
        self.assertContains(detail, "临时密码，登录后须修改")

    def test_the_role_is_optional_for_the_school_office(self):
        self.login(self.leader)
        response = self.create(role="", unit="", email="", phone="")
        self.assertEqual(response.status_code, 200)
        self.assertFalse(User.objects.get(username="t2002").memberships.exists())

    def test_it_refuses_a_duplicate_username(self):
        self.login(self.leader)
        before = self.counts()
        response = self.create(username="T1001")
        self.assertContains(response, "工号 T1001 已有账户。", status_code=400)
        self.assertEqual(self.counts(), before)

    def test_it_refuses_a_role_without_a_unit(self):
        self.login(self.leader)
        response = self.create(unit="")
        self.assertContains(response, "角色和单位须同时选择", status_code=400)
        self.assertFalse(User.objects.filter(username="t2002").exists())

    def test_it_refuses_a_bad_phone_and_a_bad_username(self):
        self.login(self.leader)
        response = self.create(phone="call me", username="t 2002")
        self.assertContains(response, "手机号“call me”格式不正确", status_code=400)
        self.assertContains(response, "工号只能包含字母、数字", status_code=400)
        self.assertEqual(User.objects.filter(first_name="李四").count(), 0)

    def test_a_sub_office_cannot_give_a_role_outside_its_sub_tree(self):
        self.login(self.sub_office)
        before = self.counts()
        response = self.create(unit=self.branch_b.pk)
        self.assertContains(response, "不在您的管理范围内", status_code=400)
        self.assertNotContains(response, "乙机关教工党支部（B-1）不在", status_code=400)
        self.assertEqual(self.counts(), before)

    def test_a_sub_office_must_give_a_new_account_a_role(self):
        self.login(self.sub_office)
        response = self.create(role="", unit="")
        self.assertContains(
            response, "请为新账户指定本单位范围内的角色", status_code=400
        )
        self.assertFalse(User.objects.filter(username="t2002").exists())

    def test_a_sub_office_creates_an_account_within_its_sub_tree(self):
        self.login(self.sub_office)
        response = self.create(unit=self.window_a.pk, role="reviewer")
        self.assertEqual(response.status_code, 200)
        user = User.objects.get(username="t2002")
        self.assertEqual(self.client.get(f"/manage/people/{user.pk}/").status_code, 200)

    def test_the_new_account_logs_in_and_must_change_its_password(self):
        self.login(self.leader)
        password = one_time_password(self.create())
        client = logged_in("t2002", password)
        response = client.get("/manage/")
        self.assertRedirects(
            response,
            "/manage/account/?next=%2Fmanage%2F",
            fetch_redirect_response=False,
        )


class RoleTests(PeopleTestCase):
    def give(self, user, role: str, unit: Unit):
        return self.client.post(
            f"/manage/people/{user.pk}/roles/", {"role": role, "unit": unit.pk}
        )

    def test_the_office_gives_a_role(self):
        self.login(self.leader)
        response = self.give(self.teacher, "reviewer", self.unit_b)
        self.assertRedirects(
            response,
            f"/manage/people/{self.teacher.pk}/",
            fetch_redirect_response=False,
        )
        self.assertTrue(
            self.teacher.memberships.filter(unit=self.unit_b, role="reviewer").exists()
        )
        page = self.client.get(f"/manage/people/{self.teacher.pk}/")
        self.assertContains(page, "已分配角色：乙机关党委（B） · 查阅人。")

    def test_it_refuses_a_role_the_account_already_has(self):
        self.login(self.leader)
        response = self.give(self.teacher, "manager", self.branch_a)
        self.assertContains(response, "该账户已是", status_code=400)
        self.assertEqual(self.teacher.memberships.count(), 1)

    def test_it_refuses_an_unknown_role(self):
        self.login(self.leader)
        response = self.give(self.teacher, "boss", self.branch_a)
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "errorlist", status_code=400)

    def test_a_sub_office_is_refused_a_unit_outside_its_sub_tree(self):
        self.login(self.sub_office)
        response = self.give(self.teacher, "reviewer", self.unit_b)
        self.assertContains(
            response,
            "所选单位不在您的管理范围内：只能在本单位及其下级单位分配角色。",
            status_code=400,
        )
        self.assertEqual(self.teacher.memberships.count(), 1)

    def test_a_sub_office_gives_a_role_within_its_sub_tree(self):
        self.login(self.sub_office)
        response = self.give(self.teacher, "reviewer", self.unit_a)
        self.assertEqual(response.status_code, 302)
        self.assertEqual(self.teacher.memberships.count(), 2)

    def test_a_role_at_a_deactivated_unit_is_refused(self):
        self.window_a.active = False
        self.window_a.save()
        self.login(self.leader)
        response = self.give(self.teacher, "manager", self.window_a)
        self.assertContains(response, "已停用，不能在此分配角色", status_code=400)

    def test_the_office_removes_a_role(self):
        membership = self.teacher.memberships.get()
        self.login(self.leader)
        response = self.client.post(
            f"/manage/people/{self.teacher.pk}/roles/{membership.pk}/remove/"
        )
        self.assertRedirects(response, f"/manage/people/{self.teacher.pk}/")
        self.assertFalse(self.teacher.memberships.exists())

    def test_a_membership_of_another_account_is_not_found(self):
        other = self.manager_b.memberships.get()
        self.login(self.leader)
        response = self.client.post(
            f"/manage/people/{self.teacher.pk}/roles/{other.pk}/remove/"
        )
        self.assertEqual(response.status_code, 404)
        self.assertTrue(Membership.objects.filter(pk=other.pk).exists())

    def test_an_office_cannot_remove_its_own_office_role(self):
        own = self.leader.memberships.get()
        self.login(self.leader)
        response = self.client.post(
            f"/manage/people/{self.leader.pk}/roles/{own.pk}/remove/"
        )
        self.assertContains(response, "不能移除自己的办公室角色", status_code=400)
        self.assertTrue(Membership.objects.filter(pk=own.pk).exists())

    def test_the_last_office_role_of_the_school_stays(self):
        root = User.objects.create_superuser("root", password="pw-root-123456")
        own = self.leader.memberships.get()
        self.client.force_login(root)
        response = self.client.post(
            f"/manage/people/{self.leader.pk}/roles/{own.pk}/remove/"
        )
        self.assertContains(
            response, "这是学校领导小组办公室的最后一个角色", status_code=400
        )
        self.assertTrue(Membership.objects.filter(pk=own.pk).exists())
        # With a second office at the school, it may go.
        make_user("leader2", Role.OFFICE, self.school)
        response = self.client.post(
            f"/manage/people/{self.leader.pk}/roles/{own.pk}/remove/"
        )
        self.assertEqual(response.status_code, 302)
        self.assertFalse(Membership.objects.filter(pk=own.pk).exists())


class StatusAndResetTests(PeopleTestCase):
    def test_a_deactivated_account_cannot_log_in_until_reactivated(self):
        session = logged_in("t1001", "pw-t1001")
        self.login(self.leader)
        response = self.client.post(
            f"/manage/people/{self.teacher.pk}/status/deactivate/"
        )
        self.assertRedirects(response, f"/manage/people/{self.teacher.pk}/")
        self.teacher.refresh_from_db()
        self.assertFalse(self.teacher.is_active)
        # Its open session ends, and the login form refuses it.
        self.assertEqual(session.get("/manage/").status_code, 302)
        refused = Client().post(
            "/accounts/login/", {"username": "t1001", "password": "pw-t1001"}
        )
        self.assertContains(refused, "用户名或密码不正确")
        self.client.post(f"/manage/people/{self.teacher.pk}/status/reactivate/")
        logged_in("t1001", "pw-t1001")

    def test_an_unknown_status_action_is_not_found(self):
        self.login(self.leader)
        response = self.client.post(f"/manage/people/{self.teacher.pk}/status/delete/")
        self.assertEqual(response.status_code, 404)

    def test_an_office_cannot_deactivate_itself(self):
        self.login(self.sub_office)
        response = self.client.post(
            f"/manage/people/{self.sub_office.pk}/status/deactivate/"
        )
        self.assertContains(response, "不能停用自己的账户", status_code=400)
        self.sub_office.refresh_from_db()
        self.assertTrue(self.sub_office.is_active)

    def test_the_last_school_office_account_stays_active(self):
        root = User.objects.create_superuser("root", password="pw-root-123456")
        self.client.force_login(root)
        response = self.client.post(
            f"/manage/people/{self.leader.pk}/status/deactivate/"
        )
        self.assertContains(response, "唯一可登录的账户", status_code=400)
        self.leader.refresh_from_db()
        self.assertTrue(self.leader.is_active)

    def test_a_reset_gives_a_new_one_time_password_and_ends_the_old_one(self):
        session = logged_in("t1001", "pw-t1001")
        self.login(self.leader)
        response = self.client.post(f"/manage/people/{self.teacher.pk}/reset-password/")
        self.assertContains(response, "密码已重置")
        password = one_time_password(response)
        self.assertEqual(session.get("/manage/").status_code, 302)  # logged out
        self.assertEqual(
            Client()
            .post("/accounts/login/", {"username": "t1001", "password": "pw-t1001"})
            .status_code,
            200,
        )
        client = logged_in("t1001", password)
        self.assertEqual(client.get("/manage/").status_code, 302)
        self.assertTrue(
            AccountProfile.objects.get(user=self.teacher).must_change_password
        )

    def test_an_office_resets_no_password_of_its_own(self):
        self.login(self.leader)
        response = self.client.post(f"/manage/people/{self.leader.pk}/reset-password/")
        self.assertContains(response, "请在“我的账户”中修改自己的密码", status_code=400)
        self.assertTrue(User.objects.get(pk=self.leader.pk).check_password("pw-leader"))

    def test_a_sub_office_manages_no_account_outside_its_sub_tree(self):
        self.login(self.sub_office)
        for url in (
            f"/manage/people/{self.manager_b.pk}/status/deactivate/",
            f"/manage/people/{self.manager_b.pk}/reset-password/",
            f"/manage/people/{self.manager_b.pk}/roles/",
        ):
            self.assertEqual(self.client.post(url).status_code, 404, url)
        self.manager_b.refresh_from_db()
        self.assertTrue(self.manager_b.is_active)


class ForcedChangeTests(PeopleTestCase):
    def setUp(self) -> None:
        self.login(self.leader)
        response = self.client.post(f"/manage/people/{self.teacher.pk}/reset-password/")
        self.password = one_time_password(response)
        self.user = logged_in("t1001", self.password)

    def change(self, new: str, old: str | None = None, next_url: str = ""):
        return self.user.post(
            "/manage/account/",
            {
                "old_password": old or self.password,
                "new_password1": new,
                "new_password2": new,
                "next": next_url,
            },
        )

    def test_every_page_leads_to_the_password_change(self):
        for path in ("/manage/", "/manage/campaigns/", "/manage/people/", "/"):
            response = self.user.get(path)
            self.assertEqual(response.status_code, 302, path)
            self.assertTrue(response["Location"].startswith("/manage/account/"), path)
        page = self.user.get("/manage/account/?next=/manage/campaigns/")
        self.assertContains(page, "您正在使用临时密码")
        self.assertContains(page, 'name="next" value="/manage/campaigns/"')

    def test_the_api_answers_403_with_the_reason(self):
        response = self.user.get("/api/v1/units/")
        self.assertEqual(response.status_code, 403)
        self.assertIn("修改临时密码", response.json()["detail"])
        token = Token.objects.create(user=self.teacher)
        response = Client().get(
            "/api/v1/units/", HTTP_AUTHORIZATION=f"Token {token.key}"
        )
        self.assertEqual(response.status_code, 403)
        self.assertIn("修改临时密码", response.json()["detail"])

    def test_logout_static_files_and_the_language_switch_still_work(self):
        self.assertEqual(self.user.get("/static/css/site.css").status_code, 200)
        response = self.user.post("/i18n/setlang/", {"language": "en", "next": "/"})
        self.assertRedirects(response, "/", fetch_redirect_response=False)
        response = self.user.post("/accounts/logout/")
        self.assertRedirects(response, "/")

    def test_django_s_validators_refuse_a_weak_password(self):
        response = self.change("12345678")
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "errorlist", status_code=400)
        self.assertTrue(self.teacher.account_profile.must_change_password)

    def test_the_one_time_password_cannot_be_kept(self):
        response = self.change(self.password)
        self.assertContains(response, "新密码不能与当前密码相同", status_code=400)

    def test_a_wrong_current_password_is_refused(self):
        response = self.change("Zhang-San-2026!", old="wrong-password")
        self.assertEqual(response.status_code, 400)
        self.assertTrue(
            User.objects.get(pk=self.teacher.pk).check_password(self.password)
        )

    def test_the_change_clears_the_flag_and_goes_on_to_the_page_asked_for(self):
        response = self.change("Zhang-San-2026!", next_url="/manage/campaigns/")
        self.assertRedirects(
            response, "/manage/campaigns/", fetch_redirect_response=False
        )
        profile = AccountProfile.objects.get(user=self.teacher)
        self.assertFalse(profile.must_change_password)
        self.assertEqual(self.user.get("/manage/").status_code, 200)  # still logged in
        logged_in("t1001", "Zhang-San-2026!")

    def test_a_next_to_another_site_is_ignored(self):
        response = self.change("Zhang-San-2026!", next_url="https://evil.example/")
        self.assertRedirects(response, "/manage/account/")


class AccountPageTests(PeopleTestCase):
    def test_it_shows_name_username_and_roles(self):
        self.login(self.teacher)
        response = self.client.get("/manage/account/")
        self.assertContains(response, "张三")
        self.assertContains(response, "<code>t1001</code>", html=True)
        self.assertContains(response, "甲学院学生党支部（A-1）· 单位管理员")
        self.assertContains(response, "当前密码")
        self.assertNotContains(response, "管理人员与角色")
        self.assertNotContains(response, "您正在使用临时密码")

    def test_the_header_links_to_it(self):
        self.login(self.manager_a)
        self.assertContains(
            self.client.get("/manage/account/"),
            '<a href="/manage/account/">我的账户</a>',
            html=True,
        )

    def test_everyone_changes_their_own_password(self):
        self.login(self.manager_a)
        response = self.client.post(
            "/manage/account/",
            {
                "old_password": "pw-manager_a",
                "new_password1": "Jia-Xueyuan-2026",
                "new_password2": "Jia-Xueyuan-2026",
                "next": "",
            },
        )
        self.assertRedirects(
            response, "/manage/account/", fetch_redirect_response=False
        )
        self.assertContains(self.client.get("/manage/account/"), "密码已修改。")
        logged_in("manager_a", "Jia-Xueyuan-2026")

    def test_anonymous_is_sent_to_the_login(self):
        response = Client().get("/manage/account/")
        self.assertEqual(response.status_code, 302)
        self.assertIn("/accounts/login/", response["Location"])


HEADER = "工号,姓名,单位编码,角色,邮箱,手机\n"


class ImportTests(PeopleTestCase):
    def upload(self, text: str, name: str = "people.csv"):
        return self.client.post(
            "/manage/people/import/", {"file": csv_file(text, name)}
        )

    def test_a_get_shows_the_form(self):
        self.login(self.leader)
        response = self.client.get("/manage/people/import/")
        self.assertContains(response, "导入账户")
        self.assertContains(response, 'type="file"')

    def test_it_creates_accounts_and_shows_their_one_time_passwords(self):
        self.login(self.leader)
        response = self.upload(
            HEADER
            + "t3001,王五,A-1,管理员,wangwu@example.edu.cn,13900139000\n"
            + "t3002,赵六,B,查阅人,,\n"
            + "t1001,张三,B-1,reviewer,,\n"
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(
            response, "新建账户 2 个，为已有账户增加角色 1 个，未变 0 个。"
        )
        passwords = re.findall(
            r'class="one-time-password">([^<]+)<', response.content.decode()
        )
        self.assertEqual(len(passwords), 2)
        wang = User.objects.get(username="t3001")
        self.assertTrue(wang.check_password(passwords[0]))
        self.assertEqual(wang.account_profile.phone, "13900139000")
        self.assertTrue(wang.account_profile.must_change_password)
        self.assertEqual(
            list(wang.memberships.values_list("unit__code", "role")),
            [("A-1", "manager")],
        )
        self.assertTrue(
            self.teacher.memberships.filter(
                unit=self.branch_b, role="reviewer"
            ).exists()
        )
        # The file of passwords downloads once, then is gone.
        download = self.client.get("/manage/people/import/passwords.csv")
        self.assertEqual(download.status_code, 200)
        body = download.content.decode("utf-8-sig")
        self.assertIn(f"t3001,王五,{passwords[0]}", body)
        self.assertIn(f"t3002,赵六,{passwords[1]}", body)
        again = self.client.get("/manage/people/import/passwords.csv")
        self.assertContains(again, "临时密码文件已失效", status_code=410)

    def test_the_file_of_passwords_is_not_kept_past_a_quarter_of_an_hour(self):
        self.login(self.leader)
        self.upload(HEADER + "t3001,王五,A-1,管理员,,\n")
        session = self.client.session
        held = session[IMPORT_SESSION_KEY]
        held["at"] -= IMPORT_KEEP_SECONDS + 1
        session[IMPORT_SESSION_KEY] = held
        session.save()
        self.client.get("/manage/people/")  # any people page drops it
        self.assertNotIn(IMPORT_SESSION_KEY, self.client.session)
        response = self.client.get("/manage/people/import/passwords.csv")
        self.assertContains(response, "临时密码文件已失效", status_code=410)

    def test_importing_the_same_file_again_changes_nothing(self):
        self.login(self.leader)
        text = HEADER + "t1001,张三,A-1,manager,,\n"
        response = self.upload(text)
        self.assertContains(
            response, "新建账户 0 个，为已有账户增加角色 0 个，未变 1 个。"
        )
        self.assertEqual(self.teacher.memberships.count(), 1)

    def test_an_xlsx_file_with_english_headers_is_read(self):
        workbook = Workbook()
        sheet = workbook.active
        sheet.append(["username", "name", "unit_code", "role"])
        sheet.append([4001, "钱七", "A", "office"])
        buffer = io.BytesIO()
        workbook.save(buffer)
        buffer.seek(0)
        buffer.name = "people.xlsx"
        self.login(self.leader)
        response = self.client.post("/manage/people/import/", {"file": buffer})
        self.assertEqual(response.status_code, 200)
        user = User.objects.get(username="4001")
        self.assertEqual(user.memberships.get().role, "office")

    def test_every_bad_row_is_named_and_nothing_is_written(self):
        self.login(self.leader)
        before = self.counts()
        response = self.upload(
            HEADER
            + "t5001,好人,A-1,管理员,,\n"  # row 2: fine on its own
            + "t5002,孙八,NOPE,管理员,,\n"
            + "t5003,周九,A-1,书记,,\n"
            + "t5001,吴十,A,查阅人,,\n"
            + "t1001,张叁,A-1,管理员,,\n"
            + "t5006,郑一,A,管理员,not-an-email,\n"
        )
        self.assertEqual(response.status_code, 400)
        page = response.content.decode()
        self.assertIn("导入失败，未写入任何数据", page)
        self.assertIn("第 3 行（t5002）：单位编码 NOPE 不存在。", page)
        self.assertIn("第 4 行（t5003）：未知的角色“书记”", page)
        self.assertIn("第 5 行（t5001）：工号 t5001 与第 2 行重复。", page)
        self.assertIn(
            "第 6 行（t1001）：工号 t1001 已有账户，姓名为“张三”，与文件中的“张叁”不符。",
            page,
        )
        self.assertIn("第 7 行（t5006）：邮箱“not-an-email”格式不正确。", page)
        self.assertNotIn("第 2 行", page.split("第 5 行")[0])
        self.assertEqual(self.counts(), before)

    def test_a_sub_office_imports_nothing_outside_its_sub_tree(self):
        self.login(self.sub_office)
        before = self.counts()
        response = self.upload(
            HEADER + "t6001,冯二,A-1,管理员,,\n" + "t6002,陈三,B-1,管理员,,\n"
            "manager_b,,A-1,查阅人,,\n"
        )
        self.assertEqual(response.status_code, 400)
        self.assertContains(
            response, "第 3 行（t6002）：所选单位不在您的管理范围内", status_code=400
        )
        self.assertContains(
            response,
            "第 4 行（manager_b）：姓名为空。；工号 manager_b 已有账户，但不在您的管理范围内。",
            status_code=400,
        )
        self.assertEqual(self.counts(), before)

    def test_a_file_without_the_columns_is_refused(self):
        self.login(self.leader)
        response = self.upload("工号,姓名\nt7001,褚四\n")
        self.assertContains(response, "缺少列：单位编码、角色。", status_code=400)

    def test_a_file_that_is_not_a_table_is_refused(self):
        self.login(self.leader)
        response = self.upload("anything", name="people.txt")
        self.assertContains(response, "只接受 .csv 或 .xlsx 文件。", status_code=400)

    def test_managers_import_nothing(self):
        self.login(self.manager_a)
        before = self.counts()
        response = self.upload(HEADER + "t8001,卫五,A-1,管理员,,\n")
        self.assertEqual(response.status_code, 403)
        self.assertEqual(self.counts(), before)
        self.assertEqual(
            self.client.get("/manage/people/import/passwords.csv").status_code, 403
        )
