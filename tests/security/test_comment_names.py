"""Comments name no unit and no person the service knows, wherever they are read.

Numbers were masked; names were not. Every unit's name and the names of the
people the service knows (users' first and last names, the people written on
tasks as responsible) become ［单位］ / ［姓名］ on the unit report, in the themes
API, in theme findings and their titles, and so in the tasks and the ledger export
made from them.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.test import SimpleTestCase

from analysis.comments import known_names, split_names
from analysis.masking import PERSON_NAME, UNIT_NAME, NameMask
from analysis.models import Finding
from analysis.services import finding_decide
from analysis.themes import keywords
from organizations.models import Membership
from rectification.services import task_create
from tests.analysis.synthetic import analysed, fill, published
from tests.base import PersonaTestCase, make_user
from tests.questionnaires.helpers import make_round, point_of

# 乙机关党委 is unit B's name (tests.base); 马明月 a manager of B; 王建国 the person
# responsible for a task. Unmasked, jieba makes keywords of 机关党委, 明月 and 王建国.
COMMENTS = [
    "乙机关党委的马明月老师办事拖拉",
    "马明月办事拖拉，乙机关党委不管",
    "乙机关党委马明月拖拉推诿",
    "找乙机关党委马明月办事拖拉",
    "乙机关党委马明月办事太拖拉",
    "王建国办事拖拉没人管",
]
NAMES = ["乙机关党委", "机关党委", "马明月", "明月", "王建国"]


class CommentNameTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.named = make_user("ma_mingyue", Membership.Role.MANAGER, cls.unit_b)
        get_user_model().objects.filter(pk=cls.named.pk).update(
            first_name="明月", last_name="马"
        )
        task_create(
            user=cls.leader,
            fields={
                "title": "食堂检查",
                "lead_unit": cls.branch_b,
                "responsible_person": "王建国",
            },
        )
        cls.campaign = make_round(cls.school, kinds={"branch": "wuhao-branch"})
        # Every commenting respondent rated the unit unsatisfied: a theme finding.
        fill(point_of(cls.campaign, cls.branch_a), n=30, satisfied=0, comments=COMMENTS)
        fill(point_of(cls.campaign, cls.branch_b), n=30, satisfied=30)
        analysed(cls.campaign)
        published(cls.campaign)
        cls.finding = Finding.objects.get(
            campaign=cls.campaign, unit=cls.branch_a, trigger=Finding.Trigger.THEME
        )
        finding_decide(finding=cls.finding, user=cls.leader, confirm=True)
        cls.task = task_create(user=cls.leader, finding=cls.finding, fields={})

    def assert_no_names(self, text: str) -> None:
        for name in NAMES:
            self.assertNotIn(name, text)

    def test_the_unit_report_shows_the_comments_without_the_names(self):
        self.login(self.manager_a)
        response = self.client.get(
            f"/manage/campaigns/{self.campaign.pk}/units/{self.branch_a.pk}/report/"
        )
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        comments = html.split('id="comments"')[1].split("</section>")[0]
        self.assertIn(f"{UNIT_NAME}的{PERSON_NAME}老师办事拖拉", comments)
        self.assertIn(f"{PERSON_NAME}办事拖拉没人管", comments)
        self.assert_no_names(html)

    def test_the_themes_api_shows_neither(self):
        response = self.api(self.manager_a).get(
            f"/api/v1/campaigns/{self.campaign.pk}/themes/",
            {"unit": self.branch_a.pk},
        )
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertTrue(body["themes"])
        examples = [text for theme in body["themes"] for text in theme["examples"]]
        self.assertTrue(any(PERSON_NAME in text for text in examples), examples)
        words = [word for theme in body["themes"] for word in theme["keywords"]]
        self.assertIn("拖拉", words)
        self.assertFalse({"单位", "姓名"} & set(words), words)
        self.assert_no_names(response.content.decode())

    def test_the_theme_finding_and_its_task_show_neither(self):
        self.assertIn("拖拉", self.finding.title)
        response = self.api(self.leader).get(f"/api/v1/findings/{self.finding.pk}/")
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.json()["evidence"]["examples"])
        self.assert_no_names(response.content.decode())
        self.assert_no_names(self.task.title)

    def test_the_ledger_export_shows_neither(self):
        self.login(self.leader)
        response = self.client.get("/manage/ledger/export.csv")
        self.assertEqual(response.status_code, 200)
        rows = response.content.decode("utf-8-sig").splitlines()
        # The manual task's row names its responsible person, as it should.
        (row,) = [row for row in rows if "意见集中" in row]
        self.assertIn("拖拉", row)
        self.assert_no_names(row)

    def test_the_names_are_read_once_per_set_of_comments(self):
        # Units, users and the tasks' responsible people: a query each, however
        # many comments there are.
        with self.assertNumQueries(3):
            names = known_names()
        self.assertEqual(
            names.mask("马明月和王建国在乙机关党委"), "［姓名］和［姓名］在［单位］"
        )


class NameMaskTests(SimpleTestCase):
    def test_the_longest_name_wins_where_names_overlap(self):
        names = NameMask(units=["甲学院", "甲学院党委"], people=["甲学"])
        self.assertEqual(names.mask("甲学院党委和甲学院"), f"{UNIT_NAME}和{UNIT_NAME}")

    def test_names_of_one_character_are_ignored(self):
        names = NameMask(units=["楼"], people=["王", "王五"])
        self.assertEqual(
            names.mask("王老师在楼里找王五"), f"王老师在楼里找{PERSON_NAME}"
        )

    def test_latin_names_match_whole_words_in_any_case(self):
        names = NameMask(people=["Ann Lee", "Ann"])
        self.assertEqual(
            names.mask("Annual talk by ANN LEE and ann."),
            f"Annual talk by {PERSON_NAME} and {PERSON_NAME}.",
        )

    def test_a_name_next_to_other_chinese_characters_is_still_masked(self):
        names = NameMask(people=["张伟"])
        self.assertEqual(
            names.mask("张伟伟说张伟好"), f"{PERSON_NAME}伟说{PERSON_NAME}好"
        )

    def test_no_names_leave_the_text_alone(self):
        self.assertEqual(NameMask().mask("甲学院党委"), "甲学院党委")

    def test_the_tokens_are_no_keywords(self):
        words = [word for word, _ in keywords([f"{UNIT_NAME}食堂太贵"] * 3)]
        self.assertIn("食堂", words)
        self.assertFalse({"单位", "姓名"} & set(words))

    def test_a_field_with_several_people_gives_each(self):
        self.assertEqual(
            split_names("张三、李四/王五"), ["张三、李四/王五", "张三", "李四", "王五"]
        )
