"""The questionnaire editor in a real browser (headless Chromium, zh-CN, with
JavaScript off: the pages need none; see tests/browser.py).

The school's office copies the 五好 branch template, edits a question, adds one
(after a refusal at the field) and removes it, reorders, renames the draft,
adds, renames, moves and removes a dimension, previews the respondent page,
publishes after the confirmation, and finds the published copy offered on the
new-round form; then starts a new version of it and deletes that draft. Every
POST form of the editor's pages is submitted on the way.
"""

from __future__ import annotations

from playwright.sync_api import expect

from organizations.models import Membership, Unit
from questionnaires.editor import all_questions
from questionnaires.models import Questionnaire
from questionnaires.services import questionnaire_spec
from tests.base import make_unit, make_user
from tests.browser import SCREENSHOTS, BrowserTestCase

KEY = "wuhao-branch-2027"


class EditorBrowserTests(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        school = make_unit("S", Unit.Kind.SCHOOL, name="测试大学")
        committee = make_unit(
            "A", Unit.Kind.COMMITTEE, school, "teaching", name="甲学院党委"
        )
        make_unit(
            "A-1", Unit.Kind.BRANCH, committee, "student", name="甲学院学生党支部"
        )
        make_user("office", Membership.Role.OFFICE, school)

    def tearDown(self) -> None:
        # The questionnaire tables outlive a browser test (tests/browser.py): drop
        # the drafts this one left; a published version stays, as it must.
        Questionnaire.objects.drafts().filter(key__startswith=KEY).delete()
        super().tearDown()

    def codes(self) -> list[str]:
        draft = Questionnaire.objects.get(key=KEY, version=1)
        return [q["code"] for q in all_questions(questionnaire_spec(draft))]

    def click(self, page, locator) -> None:
        with page.expect_navigation():
            locator.click()

    def button(self, page, name: str, scope=None) -> None:
        self.click(page, (scope or page).get_by_role("button", name=name, exact=True))

    def link(self, page, name: str, scope=None) -> None:
        self.click(page, (scope or page).get_by_role("link", name=name, exact=True))

    def flash(self, page, text: str) -> None:
        expect(page.locator("ul.messages")).to_contain_text(text)

    def test_the_office_copies_edits_previews_and_publishes_the_wuhao_template(self):
        page = self.desktop(js=False)
        self.log_in(page, "office")
        page.goto(f"{self.live_server_url}/manage/questionnaires/")
        template = page.locator("#q-wuhao-branch-1")
        expect(template).to_contain_text("已发布")
        expect(template).to_contain_text("党支部")

        # 复制 on the list, then the copy's own key and title.
        self.link(page, "复制", template)
        expect(page.locator("#id_key")).to_have_value("wuhao-branch-copy")
        page.fill("#id_key", "wuhao-branch")
        self.button(page, "复制为新问卷")
        expect(page.locator(".field-group:has(#id_key)")).to_contain_text(
            "已被其他问卷使用"
        )
        page.fill("#id_key", KEY)
        page.fill("#id_title", "党支部“五好”群众评议（2027）")
        self.button(page, "复制为新问卷")
        self.flash(page, "已复制为新的草稿问卷")
        expect(page.locator("h1")).to_have_text("党支部“五好”群众评议（2027）")
        draft_url = f"{self.live_server_url}/manage/questionnaires/{KEY}/1/"
        self.assertEqual(page.url, draft_url)
        page.screenshot(path=SCREENSHOTS / "editor-draft.png", full_page=True)

        # Edit one question's text.
        self.link(page, "修改", page.locator("#question-members_vanguard"))
        expect(page.locator("#id_text")).to_have_value("党员在岗位上发挥先锋模范作用")
        page.fill("#id_text", "党员在教学科研岗位上发挥先锋模范作用")
        self.button(page, "保存题目")
        self.flash(page, "已保存题目。")
        expect(page.locator("#question-members_vanguard")).to_contain_text(
            "党员在教学科研岗位上发挥先锋模范作用"
        )

        # Add one: a scale question without a scale is refused at the field first.
        self.link(page, "添加题目")
        page.fill("#id_text", "您参加过本支部组织的哪些活动？")
        page.select_option("#id_scale", "")
        self.button(page, "保存题目")
        expect(page.locator(".field-group:has(#id_scale)")).to_contain_text(
            "量表题需要选择一个量表。"
        )
        page.select_option("#id_kind", "multiple")
        page.fill("#id_options", "主题党日\n志愿服务\n专题讲座")
        page.select_option("#id_dimension", "members")
        page.fill("#id_help_text", "可多选")
        page.check("#id_required")
        self.button(page, "保存题目")
        self.flash(page, "已保存题目。")
        added = page.locator("#question-q13")
        expect(added).to_contain_text("主题党日、志愿服务、专题讲座")
        expect(added).to_contain_text("多选题")
        self.assertEqual(self.codes()[4], "q13")

        # Reorder: the second question of 领导班子好 up, then 总体评价 down.
        self.button(page, "↑ 上移", page.locator("#question-leadership_integrity"))
        self.flash(page, "已调整题目顺序。")
        self.assertEqual(self.codes()[:2], ["leadership_integrity", "leadership_unity"])
        self.button(page, "↓ 下移", page.locator("#question-overall"))
        self.assertEqual(self.codes()[-2:], ["suggestions", "overall"])

        # Remove the added one.
        self.button(page, "删除", page.locator("#question-q13"))
        self.flash(page, "已删除题目。")
        expect(page.locator("#question-q13")).to_have_count(0)
        self.assertEqual(len(self.codes()), 12)

        # The draft's title and description.
        page.fill("#id_description", "请根据您的了解作出评价，匿名填写。")
        self.button(page, "保存标题和说明")
        self.flash(page, "已保存标题和说明。")

        # A dimension: added, renamed, moved up, removed while empty.
        page.fill("#id_dim_new_title", "服务师生好")
        self.button(page, "添加维度")
        self.flash(page, "已添加维度。")
        row = page.locator("#dimension-d6")
        row.locator("input[name=title]").fill("服务师生")
        self.button(page, "保存", row)
        self.flash(page, "已保存维度。")
        expect(page.locator("#dimension-d6 input[name=title]")).to_have_value(
            "服务师生"
        )
        self.button(page, "↑ 上移", page.locator("#dimension-d6"))
        self.flash(page, "已调整维度顺序。")
        expect(page.locator("#dimensions tbody tr").nth(4)).to_have_id("dimension-d6")
        self.button(page, "删除", page.locator("#dimension-d6"))
        self.flash(page, "已删除维度。")
        expect(page.locator("#dimension-d6")).to_have_count(0)

        # The preview: the respondent page, marked, with nothing to send.
        self.link(page, "预览评议页面")
        expect(page.locator("#preview-banner")).to_contain_text("预览")
        expect(page.get_by_text("党员在教学科研岗位上发挥先锋模范作用")).to_be_visible()
        expect(page.get_by_text("请根据您的了解作出评价，匿名填写。")).to_be_visible()
        expect(page.locator("button[type=submit]")).to_be_disabled()
        page.screenshot(path=SCREENSHOTS / "editor-preview.png", full_page=True)
        page.go_back()

        # Publish, after its confirmation page; from then on the page edits nothing.
        self.link(page, "发布")
        expect(page.locator("#explanation")).to_contain_text("冻结")
        self.button(page, "确认发布")
        self.flash(page, "已发布。")
        expect(page.locator("#frozen")).to_have_text(
            "已发布的问卷不能修改，请新建版本。"
        )
        expect(page.get_by_role("button", name="保存标题和说明")).to_have_count(0)
        expect(page.locator("#question-members_vanguard form")).to_have_count(0)
        self.assertTrue(Questionnaire.objects.get(key=KEY, version=1).is_published)

        # A round may now use it.
        page.goto(f"{self.live_server_url}/manage/campaigns/new/")
        expect(page.get_by_label("党支部问卷")).to_contain_text(
            "党支部“五好”群众评议（2027） v1"
        )

        # A new version of it, and that draft deleted again.
        page.goto(draft_url)
        self.link(page, "新建版本")
        self.button(page, "确认新建版本")
        self.flash(page, "已新建第 2 版（草稿）")
        self.assertFalse(Questionnaire.objects.get(key=KEY, version=2).is_published)
        self.link(page, "删除草稿")
        self.button(page, "确认删除草稿")
        self.flash(page, "已删除草稿")
        self.assertFalse(Questionnaire.objects.filter(key=KEY, version=2).exists())
        expect(page.locator(f"#q-{KEY}-1")).to_contain_text("已发布")
        page.screenshot(path=SCREENSHOTS / "editor-list.png", full_page=True)
