import io

from organizations.models import Unit
from tests.base import PersonaTestCase


class LoginPageTests(PersonaTestCase):
    def test_the_home_page_is_in_chinese(self):
        response = self.client.get("/")
        self.assertContains(response, "群众评议与整改")
        self.assertContains(response, '<html lang="zh-hans">', html=False)

    def test_the_login_page_is_in_chinese(self):
        response = self.client.get("/accounts/login/")
        self.assertContains(response, "管理人员登录")
        self.assertContains(response, "用户名")

    def test_a_user_logs_in_and_lands_on_the_workbench(self):
        response = self.client.post(
            "/accounts/login/",
            {"username": "manager_a", "password": "pw-manager_a"},
            follow=True,
        )
        self.assertContains(response, "工作台")
        self.assertContains(response, "甲学院党委")

    def test_a_wrong_password_shows_an_error_in_chinese(self):
        response = self.client.post(
            "/accounts/login/", {"username": "manager_a", "password": "nope"}
        )
        self.assertContains(response, "用户名或密码不正确")

    def test_logout_needs_post_and_ends_the_session(self):
        self.login(self.leader)
        self.assertEqual(self.client.get("/accounts/logout/").status_code, 405)
        response = self.client.post("/accounts/logout/")
        self.assertRedirects(response, "/")
        self.assertEqual(self.client.get("/manage/").status_code, 302)

    def test_english_is_available(self):
        self.client.post("/i18n/setlang/", {"language": "en", "next": "/"})
        response = self.client.get("/accounts/login/")
        self.assertContains(response, "Staff sign-in")


class ManagePageTests(PersonaTestCase):
    def test_management_pages_need_a_login(self):
        for url in ("/manage/", "/manage/units/", "/manage/units/export.csv"):
            response = self.client.get(url)
            self.assertEqual(response.status_code, 302, url)
            self.assertIn("/accounts/login/", response["Location"])

    def test_manager_a_sees_only_the_units_of_a(self):
        self.login(self.manager_a)
        response = self.client.get("/manage/units/")
        self.assertContains(response, "甲学院学生党支部")
        self.assertNotContains(response, "乙机关党委")
        self.assertNotContains(response, "导入单位")

    def test_the_office_sees_every_unit_and_the_import_form(self):
        self.login(self.leader)
        response = self.client.get("/manage/units/")
        self.assertContains(response, "乙机关党委")
        self.assertContains(response, "导入单位")

    def test_a_page_import_lists_each_bad_row(self):
        self.login(self.leader)
        file = io.BytesIO(
            b"code,name,kind,category,parent_code\nC,,committee,teaching,S\n"
        )
        file.name = "units.csv"
        response = self.client.post("/manage/units/import/", {"file": file})
        self.assertContains(response, "第 2 行", status_code=400)
        self.assertContains(response, "名称为空", status_code=400)
        self.assertFalse(Unit.objects.filter(code="C").exists())

    def test_a_page_import_succeeds_for_the_office(self):
        self.login(self.leader)
        file = io.BytesIO(
            "code,name,kind,category,parent_code\nC,丙学院党委,committee,teaching,S\n".encode(
                "gb18030"
            )
        )
        file.name = "units.csv"
        response = self.client.post(
            "/manage/units/import/", {"file": file}, follow=True
        )
        self.assertContains(response, "导入成功")
        self.assertTrue(Unit.objects.filter(code="C").exists())

    def test_a_manager_cannot_import_through_the_page(self):
        self.login(self.manager_a)
        file = io.BytesIO(
            b"code,name,kind,category,parent_code\nC,x,committee,teaching,S\n"
        )
        file.name = "units.csv"
        self.assertEqual(
            self.client.post("/manage/units/import/", {"file": file}).status_code, 403
        )
        self.assertFalse(Unit.objects.filter(code="C").exists())

    def test_the_page_export_is_scoped(self):
        self.login(self.manager_b)
        text = self.client.get("/manage/units/export.csv").content.decode("utf-8-sig")
        self.assertEqual(
            [line.split(",")[0] for line in text.splitlines()], ["code", "B", "B-1"]
        )
        self.assertEqual(self.client.get("/manage/units/export.pdf").status_code, 404)
