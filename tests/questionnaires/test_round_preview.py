"""The respondent page of each unit kind, previewed by the office before it opens
a round (issue 10, item 1): what a respondent sees, marked 预览, storing nothing."""

from __future__ import annotations

from questionnaires.forms_spec import form_spec
from questionnaires.models import Commitment, PendingSubmission, Response
from tests.base import PersonaTestCase

from .helpers import builtin, make_round


class RoundPreviewTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.draft = make_round(
            cls.school,
            title="秋季评议",
            open_it=False,
            kinds={"branch": "wuhao-branch", "window": "window"},
            description="请如实评价。",
        )
        Commitment.objects.create(
            campaign=cls.draft, unit=cls.branch_a, text="每周公开办事进度"
        )
        cls.url = f"/manage/campaigns/{cls.draft.pk}/preview/branch/"

    def test_the_round_page_links_a_preview_per_kind(self):
        self.login(self.leader)
        page = self.client.get(f"/manage/campaigns/{self.draft.pk}/")
        self.assertContains(page, f'href="{self.url}"')
        self.assertContains(
            page, f'href="/manage/campaigns/{self.draft.pk}/preview/window/"'
        )
        self.assertNotContains(page, "/preview/committee/")  # not in the round

    def test_the_preview_is_the_respondent_page_of_a_sample_unit(self):
        self.login(self.leader)
        page = self.client.get(self.url)
        self.assertEqual(page.status_code, 200)
        self.assertTemplateUsed(page, "questionnaires/respond/form.html")
        self.assertContains(page, "预览")
        self.assertContains(page, "不会保存任何答卷")
        self.assertContains(page, "<h1>甲学院学生党支部</h1>", html=True)
        self.assertContains(page, "每周公开办事进度")  # the sample unit's commitment
        self.assertContains(page, "请如实评价。")
        for question in form_spec(builtin("wuhao-branch")).questions:
            self.assertContains(page, question.text)
        # The button is off and the form posts nowhere.
        self.assertContains(page, '<button type="submit" disabled>')
        self.assertNotContains(page, 'method="post" action=')
        self.assertNotContains(page, 'name="nonce"')
        self.assertContains(page, f'href="/manage/campaigns/{self.draft.pk}/"')

    def test_the_window_kind_shows_the_window_questionnaire(self):
        self.login(self.leader)
        page = self.client.get(f"/manage/campaigns/{self.draft.pk}/preview/window/")
        self.assertContains(page, "甲学院服务窗口")
        self.assertEqual(page.context["spec"].key, "window")

    def test_a_preview_stores_nothing_and_takes_no_post(self):
        self.login(self.leader)
        response = self.client.post(self.url, {"q1": "x"})
        self.assertEqual(response.status_code, 405)
        self.assertFalse(Response.objects.exists())
        self.assertFalse(PendingSubmission.objects.exists())

    def test_a_kind_not_in_the_round_or_with_every_unit_excluded_is_404(self):
        self.login(self.leader)
        url = f"/manage/campaigns/{self.draft.pk}/preview/committee/"
        self.assertEqual(self.client.get(url).status_code, 404)
        self.draft.excluded_units.set([self.window_a])
        window = f"/manage/campaigns/{self.draft.pk}/preview/window/"
        self.assertEqual(self.client.get(window).status_code, 404)
        page = self.client.get(f"/manage/campaigns/{self.draft.pk}/")
        self.assertNotContains(page, window)
        # The sample skips an excluded unit.
        self.draft.excluded_units.set([self.branch_a])
        self.assertContains(self.client.get(self.url), "乙机关教工党支部")

    def test_only_the_office_previews(self):
        self.login(self.reviewer)
        self.assertEqual(self.client.get(self.url).status_code, 403)
        self.login(self.manager_a)
        # A-1 takes part in the draft: A's manager sees it, but previews nothing.
        self.assertEqual(self.client.get(self.url).status_code, 403)
        round_a = make_round(self.unit_a, kinds={"branch": "wuhao-branch"})
        self.login(self.manager_b)
        url = f"/manage/campaigns/{round_a.pk}/preview/branch/"
        self.assertEqual(self.client.get(url).status_code, 404)
