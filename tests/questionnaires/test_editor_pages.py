"""The questionnaire editor's pages (questionnaires.editor_pages) with the test
client: every edit, every refusal, and who may do what.

The school's office (``leader``) edits; a sub-office, managers and the reviewer
read only; anonymous visitors go to the login page.
"""

from __future__ import annotations

from django.urls import reverse

from organizations.models import Membership
from questionnaires import editor
from questionnaires.models import Questionnaire
from questionnaires.services import questionnaire_create, questionnaire_spec
from tests.base import PersonaTestCase, make_user
from tests.questionnaires.helpers import builtin, make_round

KEY = "test-copy"


def url(name: str, questionnaire: Questionnaire | None = None, *args) -> str:
    if questionnaire is None:
        return reverse(name, args=args)
    return reverse(name, args=[questionnaire.key, questionnaire.version, *args])


def question_form(**fields) -> dict:
    return {
        "text": "新题目",
        "kind": "scale",
        "scale": "three_dk",
        "options": "",
        "dimension": "",
        "help_text": "",
        "code": "",
        **fields,
    }


class EditorTestCase(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.sub_office = make_user("office_a", Membership.Role.OFFICE, cls.unit_a)
        cls.template = builtin("wuhao-branch")
        editor.questionnaire_copy(
            source=cls.template, key=KEY, title="测试副本", target_kind="branch"
        )

    def setUp(self) -> None:
        self.login(self.leader)

    @property
    def draft(self) -> Questionnaire:
        return Questionnaire.objects.get(key=KEY, version=1)

    def spec(self) -> dict:
        return questionnaire_spec(self.draft)

    def codes(self) -> list[str]:
        return [q["code"] for q in editor.all_questions(self.spec())]

    def assert_refused(self, response, status: int, message: str) -> None:
        self.assertEqual(response.status_code, status)
        self.assertContains(response, message, status_code=status)


class ListAndDetailTests(EditorTestCase):
    def test_it_lists_templates_and_versions_with_state_kind_and_rounds(self):
        make_round(self.school, title="春季评议", kinds={"branch": "wuhao-branch"})
        response = self.client.get(url("manage-questionnaires"))
        self.assertEqual(response.status_code, 200)
        page = response.content.decode()
        row = page.split('id="q-wuhao-branch-1"')[1].split("</tr>")[0]
        self.assertIn("党支部“五好”群众评议", row)
        self.assertIn("已发布", row)
        self.assertIn("党支部", row)
        self.assertIn("春季评议", row)
        self.assertIn(url("manage-questionnaire-copy", self.template), row)
        draft_row = page.split(f'id="q-{KEY}-1"')[1].split("</tr>")[0]
        self.assertIn("草稿", draft_row)
        self.assertIn("未使用", draft_row)

    def test_a_published_version_page_shows_why_it_cannot_be_edited(self):
        response = self.client.get(url("manage-questionnaire", self.template))
        self.assertContains(response, "已发布的问卷不能修改，请新建版本")
        self.assertContains(response, "您对该党支部的总体评价")
        for name in ("settings", "dimension-add", "question-add"):
            self.assertNotContains(
                response, url(f"manage-questionnaire-{name}", self.template)
            )
        self.assertContains(
            response, url("manage-questionnaire-new-version", self.template)
        )

    def test_a_draft_page_has_the_editing_forms(self):
        response = self.client.get(url("manage-questionnaire", self.draft))
        self.assertContains(response, url("manage-questionnaire-settings", self.draft))
        self.assertContains(
            response, url("manage-questionnaire-question-move", self.draft, "overall")
        )
        self.assertContains(response, url("manage-questionnaire-publish", self.draft))

    def test_an_unknown_version_is_not_found(self):
        response = self.client.get(reverse("manage-questionnaire", args=[KEY, 9]))
        self.assertEqual(response.status_code, 404)


class CopyTests(EditorTestCase):
    def test_the_copy_page_suggests_a_free_key_and_title(self):
        response = self.client.get(url("manage-questionnaire-copy", self.template))
        self.assertContains(response, 'value="wuhao-branch-copy"')
        self.assertContains(response, "党支部“五好”群众评议（副本）")

    def test_it_copies_a_template_into_a_new_draft(self):
        response = self.client.post(
            url("manage-questionnaire-copy", self.template),
            {"title": "2027 年支部评议", "key": "branch-2027", "target_kind": "branch"},
        )
        copy = Questionnaire.objects.get(key="branch-2027")
        self.assertRedirects(response, url("manage-questionnaire", copy))
        self.assertEqual(
            (copy.version, copy.title, copy.is_published), (1, "2027 年支部评议", False)
        )
        original = questionnaire_spec(self.template)
        copied = questionnaire_spec(copy)
        self.assertEqual(copied["dimensions"], original["dimensions"])
        self.assertEqual(copied["questions"], original["questions"])

    def test_it_copies_a_draft_version_too_with_another_kind(self):
        self.client.post(
            url("manage-questionnaire-copy", self.draft),
            {"title": "学院版", "key": "committee-copy", "target_kind": "committee"},
        )
        copy = Questionnaire.objects.get(key="committee-copy")
        self.assertEqual(copy.target_kind, "committee")
        self.assertEqual(len(editor.all_questions(questionnaire_spec(copy))), 12)

    def test_it_refuses_a_key_in_use_at_the_field(self):
        before = Questionnaire.objects.count()
        response = self.client.post(
            url("manage-questionnaire-copy", self.template),
            {"title": "副本", "key": "wuhao-branch", "target_kind": "branch"},
        )
        self.assert_refused(response, 400, "标识“wuhao-branch”已被其他问卷使用")
        self.assertEqual(Questionnaire.objects.count(), before)

    def test_it_refuses_a_key_with_spaces(self):
        response = self.client.post(
            url("manage-questionnaire-copy", self.template),
            {"title": "副本", "key": "有 空格", "target_kind": "branch"},
        )
        self.assert_refused(response, 400, "标识只能用英文字母")
        self.assertFalse(Questionnaire.objects.filter(title="副本").exists())


class NewVersionTests(EditorTestCase):
    def test_it_makes_a_new_draft_version_of_a_published_one(self):
        window = builtin("window")
        page = self.client.get(url("manage-questionnaire-new-version", window))
        self.assertContains(page, "确认新建版本")
        response = self.client.post(url("manage-questionnaire-new-version", window))
        draft = Questionnaire.objects.get(key="window", version=2)
        self.assertRedirects(response, url("manage-questionnaire", draft))
        self.assertFalse(draft.is_published)
        self.assertEqual(
            questionnaire_spec(draft)["dimensions"],
            questionnaire_spec(window)["dimensions"],
        )

    def test_it_refuses_a_second_draft_and_links_the_first(self):
        window = builtin("window")
        self.client.post(url("manage-questionnaire-new-version", window))
        response = self.client.post(url("manage-questionnaire-new-version", window))
        self.assert_refused(response, 409, "已有一个未发布的草稿版本")
        self.assertContains(
            response,
            reverse("manage-questionnaire", args=["window", 2]),
            status_code=409,
        )
        self.assertEqual(Questionnaire.objects.filter(key="window").count(), 2)

    def test_a_draft_needs_no_new_version(self):
        response = self.client.post(url("manage-questionnaire-new-version", self.draft))
        self.assert_refused(response, 409, "草稿可以直接修改")


class SettingsTests(EditorTestCase):
    def test_it_saves_title_description_and_kind(self):
        response = self.client.post(
            url("manage-questionnaire-settings", self.draft),
            {"title": "新标题", "description": "新说明", "target_kind": "committee"},
        )
        self.assertRedirects(response, url("manage-questionnaire", self.draft))
        draft = self.draft
        self.assertEqual(
            (draft.title, draft.description, draft.target_kind),
            ("新标题", "新说明", "committee"),
        )
        self.assertEqual(len(self.codes()), 12, "the questions stay")

    def test_it_refuses_an_empty_title_at_the_field(self):
        response = self.client.post(
            url("manage-questionnaire-settings", self.draft),
            {"title": "  ", "description": "", "target_kind": "branch"},
        )
        self.assert_refused(response, 400, "该字段是必填项。")
        self.assertContains(response, 'aria-invalid="true"', status_code=400)
        self.assertEqual(self.draft.title, "测试副本")


class DimensionTests(EditorTestCase):
    def dimensions(self) -> list[tuple[str, str]]:
        return [(d["code"], d["title"]) for d in self.spec()["dimensions"]]

    def test_it_adds_edits_moves_and_removes_a_dimension(self):
        add = url("manage-questionnaire-dimension-add", self.draft)
        response = self.client.post(add, {"title": "服务师生好", "code": ""})
        self.assertRedirects(
            response, url("manage-questionnaire", self.draft) + "#dimensions"
        )
        self.assertEqual(self.dimensions()[-1], ("d6", "服务师生好"))
        self.client.post(
            url("manage-questionnaire-dimension", self.draft, "d6"),
            {"title": "服务师生", "code": "service"},
        )
        self.assertEqual(self.dimensions()[-1], ("service", "服务师生"))
        self.client.post(
            url("manage-questionnaire-dimension-move", self.draft, "service"),
            {"direction": "up"},
        )
        self.assertEqual(self.dimensions()[-2], ("service", "服务师生"))
        self.client.post(
            url("manage-questionnaire-dimension-move", self.draft, "leadership"),
            {"direction": "down"},
        )
        self.assertEqual(
            [code for code, _ in self.dimensions()],
            [
                "members",
                "leadership",
                "mechanism",
                "performance",
                "service",
                "reputation",
            ],
        )
        response = self.client.post(
            url("manage-questionnaire-dimension-remove", self.draft, "service")
        )
        self.assertEqual(response.status_code, 302)
        self.assertNotIn("service", [code for code, _ in self.dimensions()])

    def test_moving_the_first_dimension_up_is_refused(self):
        response = self.client.post(
            url("manage-questionnaire-dimension-move", self.draft, "leadership"),
            {"direction": "up"},
        )
        self.assert_refused(response, 400, "已经在最前面。")

    def test_it_refuses_removing_a_dimension_with_questions(self):
        response = self.client.post(
            url("manage-questionnaire-dimension-remove", self.draft, "members")
        )
        self.assert_refused(response, 400, "维度“党员队伍好”下还有 2 道题")
        self.assertIn("members", [code for code, _ in self.dimensions()])
        self.assertEqual(len(self.codes()), 12)

    def test_it_refuses_a_duplicate_dimension_code_at_the_field(self):
        response = self.client.post(
            url("manage-questionnaire-dimension-add", self.draft),
            {"title": "重复", "code": "members"},
        )
        self.assert_refused(response, 400, "编码“members”已被另一个维度使用。")
        self.assertEqual(len(self.dimensions()), 5)

    def test_it_refuses_a_dimension_without_a_title(self):
        response = self.client.post(
            url("manage-questionnaire-dimension", self.draft, "members"),
            {"title": "", "code": "members"},
        )
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self.dimensions()[1], ("members", "党员队伍好"))


class QuestionTests(EditorTestCase):
    def item(self, code: str) -> dict:
        return next(q for q in editor.all_questions(self.spec()) if q["code"] == code)

    def test_the_add_page_offers_the_dimensions_and_scales(self):
        response = self.client.get(
            url("manage-questionnaire-question-add", self.draft) + "?dimension=members"
        )
        self.assertContains(
            response, '<option value="members" selected>党员队伍好</option>', html=True
        )
        self.assertContains(response, "满意度（三级+不了解）")

    def test_it_adds_a_choice_question_at_the_end_of_its_dimension(self):
        response = self.client.post(
            url("manage-questionnaire-question-add", self.draft),
            question_form(
                text="您参加过支部的哪些活动？",
                kind="multiple",
                scale="three_dk",  # left over in the form: not used by a choice
                options="主题党日\n志愿服务\n\n讲座",
                dimension="members",
                help_text="可多选",
            ),
        )
        self.assertEqual(response.status_code, 302)
        members = self.spec()["dimensions"][1]["questions"]
        self.assertEqual(members[-1]["text"], "您参加过支部的哪些活动？")
        self.assertEqual(members[-1]["options"], ["主题党日", "志愿服务", "讲座"])
        self.assertEqual(members[-1]["scale"], None)
        self.assertEqual(members[-1]["code"], "q13")
        self.assertEqual(len(self.codes()), 13)

    def test_it_edits_a_question(self):
        page = self.client.get(
            url("manage-questionnaire-question", self.draft, "members_vanguard")
        )
        self.assertContains(page, "党员在岗位上发挥先锋模范作用")
        response = self.client.post(
            url("manage-questionnaire-question", self.draft, "members_vanguard"),
            question_form(
                text="党员在岗位上带头",
                kind="scale",
                scale="four",
                dimension="members",
                required="on",
                help_text="按您的了解",
            ),
        )
        self.assertRedirects(
            response,
            url("manage-questionnaire", self.draft) + "#question-members_vanguard",
        )
        item = self.item("members_vanguard")
        self.assertEqual(
            (item["text"], item["scale"], item["required"], item["help_text"]),
            ("党员在岗位上带头", "four", True, "按您的了解"),
        )
        self.assertEqual(
            self.codes().index("members_vanguard"), 2, "it keeps its place"
        )

    def test_a_question_moved_to_another_dimension_goes_to_its_end(self):
        self.client.post(
            url("manage-questionnaire-question", self.draft, "members_vanguard"),
            question_form(text="党员带头", dimension="reputation"),
        )
        reputation = self.spec()["dimensions"][4]["questions"]
        self.assertEqual(reputation[-1]["code"], "members_vanguard")

    def test_it_refuses_a_scale_question_without_a_scale(self):
        response = self.client.post(
            url("manage-questionnaire-question-add", self.draft),
            question_form(text="无量表", scale=""),
        )
        self.assert_refused(response, 400, "量表题需要选择一个量表。")
        self.assertEqual(len(self.codes()), 12)

    def test_it_refuses_a_choice_question_with_one_option(self):
        response = self.client.post(
            url("manage-questionnaire-question-add", self.draft),
            question_form(text="单选", kind="single", options="只有一个"),
        )
        self.assert_refused(response, 400, "选择题至少需要两个选项")
        self.assertEqual(len(self.codes()), 12)

    def test_it_refuses_options_for_a_text_question(self):
        response = self.client.post(
            url("manage-questionnaire-question", self.draft, "suggestions"),
            question_form(text="意见", kind="text", options="甲\n乙"),
        )
        self.assert_refused(response, 400, "只有单选题和多选题有选项")
        self.assertEqual(self.item("suggestions")["options"], [])

    def test_it_refuses_a_duplicate_question_code(self):
        response = self.client.post(
            url("manage-questionnaire-question-add", self.draft),
            question_form(text="重复编码", code="overall"),
        )
        self.assert_refused(response, 400, "编码“overall”已被另一道题使用。")
        self.assertEqual(self.item("overall")["text"], "您对该党支部的总体评价")

    def test_marking_a_headline_unmarks_the_other(self):
        response = self.client.post(
            url("manage-questionnaire-question", self.draft, "reputation_image"),
            question_form(text="支部威信高", dimension="reputation", headline="on"),
            follow=True,
        )
        self.assertContains(response, "总体评价题现在是“支部威信高”")
        headlines = [
            q["code"] for q in editor.all_questions(self.spec()) if q["headline"]
        ]
        self.assertEqual(headlines, ["reputation_image"])

    def test_a_text_question_cannot_be_the_headline(self):
        response = self.client.post(
            url("manage-questionnaire-question", self.draft, "suggestions"),
            question_form(text="意见和建议", kind="text", scale="", headline="on"),
        )
        self.assert_refused(response, 400, "总体评价题必须是量表题。")
        self.assertTrue(self.item("overall")["headline"])

    def test_it_moves_questions_within_their_dimension(self):
        move = url(
            "manage-questionnaire-question-move", self.draft, "leadership_integrity"
        )
        self.client.post(move, {"direction": "up"})
        self.assertEqual(self.codes()[:2], ["leadership_integrity", "leadership_unity"])
        response = self.client.post(move, {"direction": "up"})
        self.assert_refused(response, 400, "已经在最前面。")
        self.client.post(
            url("manage-questionnaire-question-move", self.draft, "overall"),
            {"direction": "down"},
        )
        self.assertEqual(self.codes()[-2:], ["suggestions", "overall"])

    def test_it_removes_a_question(self):
        response = self.client.post(
            url("manage-questionnaire-question-remove", self.draft, "suggestions")
        )
        self.assertEqual(response.status_code, 302)
        self.assertNotIn("suggestions", self.codes())

    def test_it_refuses_removing_the_last_question(self):
        draft = questionnaire_create(
            spec={
                "key": "one-question",
                "title": "一道题",
                "target_kind": "branch",
                "questions": [
                    {
                        "code": "only",
                        "kind": "scale",
                        "text": "总体",
                        "scale": "three_dk",
                    }
                ],
            }
        )
        response = self.client.post(
            url("manage-questionnaire-question-remove", draft, "only")
        )
        self.assert_refused(response, 400, "问卷至少要有一道题，不能删除最后一道。")
        self.assertEqual(
            list(
                Questionnaire.objects.get(key="one-question").questions.values_list(
                    "code", flat=True
                )
            ),
            ["only"],
        )

    def test_a_get_of_an_edit_goes_back_to_the_page(self):
        response = self.client.get(
            url("manage-questionnaire-question-remove", self.draft, "suggestions")
        )
        self.assertRedirects(response, url("manage-questionnaire", self.draft))
        self.assertIn("suggestions", self.codes())


class PublishedVersionTests(EditorTestCase):
    """A published version is frozen: every edit is refused with the reason."""

    def test_every_edit_of_a_published_version_is_refused(self):
        template = self.template
        before = questionnaire_spec(template)
        posts = [
            (
                "manage-questionnaire-settings",
                (),
                {"title": "x", "target_kind": "branch"},
            ),
            ("manage-questionnaire-dimension-add", (), {"title": "新维度"}),
            ("manage-questionnaire-dimension", ("members",), {"title": "改名"}),
            ("manage-questionnaire-dimension-move", ("members",), {"direction": "up"}),
            ("manage-questionnaire-dimension-remove", ("members",), {}),
            ("manage-questionnaire-question-add", (), question_form()),
            ("manage-questionnaire-question", ("overall",), question_form(text="改")),
            ("manage-questionnaire-question-move", ("overall",), {"direction": "up"}),
            ("manage-questionnaire-question-remove", ("suggestions",), {}),
        ]
        for name, args, body in posts:
            with self.subTest(name):
                response = self.client.post(url(name, template, *args), body)
                self.assert_refused(response, 409, "已发布的问卷不能修改，请新建版本")
        self.assertEqual(questionnaire_spec(template), before)

    def test_the_question_page_of_a_published_version_says_why(self):
        response = self.client.get(
            url("manage-questionnaire-question", self.template, "overall")
        )
        self.assertContains(response, "已发布的问卷不能修改，请新建版本")
        self.assertNotContains(response, "保存题目")

    def test_publishing_twice_and_deleting_are_refused(self):
        response = self.client.post(url("manage-questionnaire-publish", self.template))
        self.assert_refused(response, 409, "该版本已发布。")
        response = self.client.post(url("manage-questionnaire-delete", self.template))
        self.assert_refused(response, 409, "已发布的问卷不能删除。")
        self.assertTrue(Questionnaire.objects.filter(pk=self.template.pk).exists())


class PreviewTests(EditorTestCase):
    def test_the_preview_is_the_respondent_page_marked_and_unsendable(self):
        response = self.client.get(url("manage-questionnaire-preview", self.draft))
        self.assertEqual(response.status_code, 200)
        self.assertTemplateUsed(response, "questionnaires/respond/form.html")
        self.assertContains(response, "预览")
        self.assertContains(response, "领导班子好")
        self.assertContains(response, "支部委员会领导班子团结协作、民主作风好")
        self.assertNotContains(response, 'method="post" action=')
        self.assertContains(response, "disabled")


class PublishTests(EditorTestCase):
    def test_it_publishes_after_the_confirmation_and_a_round_may_use_it(self):
        page = self.client.get(url("manage-questionnaire-publish", self.draft))
        self.assertContains(page, "确认发布")
        self.assertFalse(self.draft.is_published)
        response = self.client.post(url("manage-questionnaire-publish", self.draft))
        self.assertRedirects(response, url("manage-questionnaire", self.draft))
        self.assertTrue(self.draft.is_published)
        form = self.client.get(reverse("manage-campaign-new"))
        self.assertContains(form, "测试副本")
        refused = self.client.post(
            url("manage-questionnaire-question-remove", self.draft, "suggestions")
        )
        self.assert_refused(refused, 409, "已发布的问卷不能修改，请新建版本")

    def test_a_draft_with_problems_is_not_published(self):
        draft = questionnaire_create(
            spec={
                "key": "bad-draft",
                "title": "有问题的草稿",
                "target_kind": "branch",
                "questions": [
                    {"code": "pick", "kind": "single", "text": "选", "options": ["甲"]}
                ],
            }
        )
        page = self.client.get(url("manage-questionnaire-publish", draft))
        self.assertContains(page, "选择题至少需要两个选项")
        self.assertNotContains(page, "确认发布")
        response = self.client.post(url("manage-questionnaire-publish", draft))
        self.assert_refused(response, 400, "选择题至少需要两个选项")
        self.assertFalse(Questionnaire.objects.get(key="bad-draft").is_published)

    def test_it_deletes_a_draft_after_the_confirmation(self):
        page = self.client.get(url("manage-questionnaire-delete", self.draft))
        self.assertContains(page, "确认删除草稿")
        response = self.client.post(url("manage-questionnaire-delete", self.draft))
        self.assertRedirects(response, url("manage-questionnaires"))
        self.assertFalse(Questionnaire.objects.filter(key=KEY).exists())


class AccessTests(EditorTestCase):
    def test_anonymous_visitors_go_to_the_login_page(self):
        self.client.logout()
        for path in (
            url("manage-questionnaires"),
            url("manage-questionnaire", self.draft),
        ):
            response = self.client.get(path)
            self.assertEqual(response.status_code, 302)
            self.assertIn("/accounts/login/", response["Location"])

    def test_other_roles_read_but_change_nothing(self):
        spec = questionnaire_spec(self.draft)
        for user in (self.manager_a, self.reviewer, self.sub_office):
            with self.subTest(user.username):
                self.client.force_login(user)
                listing = self.client.get(url("manage-questionnaires"))
                self.assertEqual(listing.status_code, 200)
                self.assertNotContains(
                    listing, url("manage-questionnaire-copy", self.template)
                )
                page = self.client.get(url("manage-questionnaire", self.draft))
                self.assertContains(page, "只有学校领导小组办公室可以修改")
                self.assertNotContains(
                    page, url("manage-questionnaire-settings", self.draft)
                )
                refused = [
                    self.client.get(url("manage-questionnaire-copy", self.template)),
                    self.client.post(
                        url("manage-questionnaire-copy", self.template),
                        {"title": "x", "key": "x-copy", "target_kind": "branch"},
                    ),
                    self.client.post(
                        url(
                            "manage-questionnaire-question-remove",
                            self.draft,
                            "suggestions",
                        )
                    ),
                    self.client.post(
                        url("manage-questionnaire-settings", self.draft),
                        {"title": "改", "target_kind": "branch"},
                    ),
                    self.client.post(url("manage-questionnaire-publish", self.draft)),
                    self.client.post(
                        url("manage-questionnaire-new-version", self.template)
                    ),
                ]
                self.assertEqual([r.status_code for r in refused], [403] * len(refused))
        self.assertEqual(questionnaire_spec(self.draft), spec)
        self.assertFalse(self.draft.is_published)
        self.assertFalse(Questionnaire.objects.filter(key="x-copy").exists())
