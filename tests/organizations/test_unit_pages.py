"""The shared page frame (header, language switch, breadcrumbs, titles, error
pages) and the units pages' import form."""

from __future__ import annotations

from django.test import override_settings
from django.test.client import RequestFactory
from django.views.defaults import server_error

from organizations.models import Unit
from tests.base import PersonaTestCase


class FrameTests(PersonaTestCase):
    def test_the_language_switch_is_in_the_header_by_each_languages_own_name(self):
        html = self.client.get("/").content.decode()
        header = html.split("<header", 1)[1].split("</header>", 1)[0]
        self.assertIn('name="language" value="zh-hans"', header)
        self.assertIn(">中文</button>", header)
        self.assertIn(">English</button>", header)
        self.assertNotIn("英语", html)
        self.assertNotIn("<footer", html)

    def test_the_switch_works_without_javascript(self):
        response = self.client.post(
            "/i18n/setlang/", {"language": "en", "next": "/manage/units/"}
        )
        self.assertRedirects(response, "/manage/units/", fetch_redirect_response=False)
        self.login(self.leader)
        html = self.client.get("/manage/units/").content.decode()
        self.assertIn('<html lang="en">', html)
        self.assertIn(">中文</button>", html)  # still by its own name

    def test_breadcrumbs_appear_only_on_pages_that_have_them(self):
        self.login(self.leader)
        self.assertNotContains(
            self.client.get("/manage/units/"), 'aria-label="breadcrumb"'
        )
        response = self.client.get("/manage/units/import/")
        self.assertContains(response, '<nav aria-label="breadcrumb"', html=False)
        self.assertContains(response, '<a href="/manage/units/">单位</a> › 导入单位')

    def test_the_home_page_has_no_api_links(self):
        for user in (None, self.leader):
            if user:
                self.login(user)
            html = self.client.get("/").content.decode()
            self.assertNotIn("/api/", html)

    def test_pages_have_titles(self):
        self.login(self.leader)
        for url, title in (
            ("/", "首页"),
            ("/manage/units/", "单位"),
            ("/manage/units/import/", "导入单位"),
        ):
            with self.subTest(url=url):
                self.assertContains(
                    self.client.get(url), f"<title>{title} · 群众评议与整改</title>"
                )


@override_settings(DEBUG=False)
class ErrorPageTests(PersonaTestCase):
    def test_a_wrong_url_shows_the_products_404_page(self):
        response = self.client.get("/no-such-page/")
        self.assertEqual(response.status_code, 404)
        html = response.content.decode()
        self.assertIn("<title>页面不存在 · 群众评议与整改</title>", html)
        self.assertIn("您访问的地址不存在或已失效。", html)
        self.assertNotIn("Traceback", html)
        self.assertNotIn("URLconf", html)  # Django's debug page names it

    def test_a_refusal_shows_the_products_403_page(self):
        self.login(self.manager_a)
        response = self.client.get("/manage/units/import/")
        self.assertEqual(response.status_code, 403)
        self.assertContains(response, "没有权限", status_code=403)

    def test_a_server_error_shows_the_products_500_page_without_a_request_context(self):
        response = server_error(RequestFactory().get("/"))
        self.assertEqual(response.status_code, 500)
        html = response.content.decode()
        self.assertIn("<title>服务器出错 · 群众评议与整改</title>", html)
        self.assertIn("刚才提交的内容可能没有保存", html)
        self.assertIn("/static/css/site", html)

    def test_a_view_that_raises_gets_the_500_page_with_debug_off(self):
        self.client.raise_request_exception = False
        with self.settings(ROOT_URLCONF="tests.organizations.broken_urls"):
            response = self.client.get("/broken/")
        self.assertEqual(response.status_code, 500)
        self.assertContains(response, "服务器出错", status_code=500)
        self.assertNotContains(response, "RuntimeError", status_code=500)


class UnitImportPageTests(PersonaTestCase):
    def test_the_office_opens_the_import_form_on_its_own_page(self):
        self.login(self.leader)
        response = self.client.get("/manage/units/import/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "<h1>导入单位</h1>")
        self.assertContains(response, 'type="file" name="file"')
        self.assertContains(response, 'action="/manage/units/import/"')
        self.assertNotContains(response, "导入失败")

    def test_the_units_page_shows_the_import_control_to_the_office(self):
        self.login(self.leader)
        response = self.client.get("/manage/units/")
        self.assertContains(response, "<h2>导入单位</h2>")
        self.assertContains(response, 'type="file" name="file"')

    def test_others_may_not_open_it(self):
        for user in (self.manager_a, self.reviewer):
            self.login(user)
            self.assertEqual(self.client.get("/manage/units/import/").status_code, 403)
        self.client.logout()
        self.assertEqual(self.client.get("/manage/units/import/").status_code, 302)

    def test_a_post_without_a_file_shows_the_error_inline_and_writes_nothing(self):
        self.login(self.leader)
        before = Unit.objects.count()
        response = self.client.post("/manage/units/import/", {})
        self.assertContains(response, "导入失败，未写入任何数据", status_code=400)
        self.assertContains(response, "该字段是必填项。", status_code=400)
        self.assertEqual(Unit.objects.count(), before)
