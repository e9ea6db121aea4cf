"""Rounds: opening creates points, status moves only forward and only by the office."""

import math
from datetime import timedelta

from django.utils import timezone

from organizations.models import Unit
from questionnaires.models import Campaign, CollectionPoint, Commitment
from questionnaires.services import (
    ServiceError,
    StateError,
    campaign_close,
    campaign_open,
    campaign_publish,
)
from tests.base import PersonaTestCase, make_unit

from .helpers import builtin, make_round

URL = "/api/v1/campaigns/"


class CampaignLifecycleTests(PersonaTestCase):
    def test_opening_creates_one_point_per_active_evaluated_unit(self):
        make_unit("B-W", Unit.Kind.WINDOW, self.unit_b, active=False)
        campaign = make_round(self.school)
        units = set(campaign.points.values_list("unit__code", flat=True))
        self.assertEqual(units, {"A", "A-1", "A-W", "B", "B-1"})
        self.assertEqual(campaign.status, Campaign.Status.OPEN)
        window_point = campaign.points.get(unit=self.window_a)
        self.assertEqual(window_point.questionnaire.key, "window")

    def test_tokens_are_random_url_safe_and_at_least_64_bits(self):
        campaign = make_round(self.school)
        tokens = list(campaign.points.values_list("token", flat=True))
        self.assertEqual(len(set(tokens)), len(tokens))
        for token in tokens:
            self.assertRegex(token, r"^[A-Za-z0-9_-]+$")
            self.assertGreaterEqual(len(token) * math.log2(64), 64)

    def test_the_respondent_url_fits_a_version_4_qr_with_a_32_character_base(self):
        from questionnaires.qr import qr_version

        campaign = make_round(self.school)
        base = "https://pingyi.example-univ.cn"  # 30 characters
        base = base + "x" * (32 - len(base))
        for token in campaign.points.values_list("token", flat=True):
            self.assertLessEqual(qr_version(f"{base}/s/{token}/"), 4)

    def test_status_moves_forward_only(self):
        campaign = make_round(self.school)
        with self.assertRaises(StateError):
            campaign_open(campaign=campaign)
        with self.assertRaises(StateError):
            campaign_publish(campaign=campaign)
        campaign_close(campaign=campaign)
        with self.assertRaises(StateError):
            campaign_close(campaign=campaign)
        campaign_publish(campaign=campaign)
        campaign.refresh_from_db()
        self.assertEqual(campaign.status, Campaign.Status.PUBLISHED)
        self.assertIsNotNone(campaign.published_at)

    def test_opening_needs_published_questionnaires_and_units(self):
        campaign = make_round(self.school, open_it=False, kinds={})
        with self.assertRaises(ServiceError):
            campaign_open(campaign=campaign)
        self.assertEqual(CollectionPoint.objects.count(), 0)


class CampaignApiTests(PersonaTestCase):
    def body(self, **overrides):
        now = timezone.now()
        body = {
            "organizer": self.school.pk,
            "title": "2027年春季测评",
            "opens_at": (now + timedelta(days=1)).isoformat(),
            "closes_at": (now + timedelta(days=10)).isoformat(),
            "access_mode": "open",
            "questionnaires": {
                "committee": builtin("wuhao-committee").pk,
                "window": builtin("window").pk,
            },
        }
        body.update(overrides)
        return body

    def test_the_office_creates_opens_closes_and_publishes(self):
        client = self.api(self.leader)
        response = client.post(URL, self.body(), format="json")
        self.assertEqual(response.status_code, 201, response.content)
        campaign_id = response.json()["id"]
        self.assertEqual(
            response.json()["questionnaires"]["window"], builtin("window").pk
        )
        self.assertEqual(
            client.post(f"{URL}{campaign_id}/open/").json()["status"], "open"
        )
        points = client.get(f"{URL}{campaign_id}/points/").json()
        self.assertEqual(points["count"], 3)  # A, B and the window A-W
        item = points["results"][0]
        self.assertTrue(item["url"].endswith(f"/s/{item['token']}/"))
        self.assertTrue(item["qr_png"].endswith(f"/manage/points/{item['id']}/qr.png"))
        self.assertEqual(
            client.post(f"{URL}{campaign_id}/close/").json()["status"], "closed"
        )
        self.assertEqual(
            client.post(f"{URL}{campaign_id}/publish/").json()["status"], "published"
        )

    def test_an_illegal_move_is_409_with_the_reason(self):
        campaign = make_round(self.school)
        response = self.api(self.leader).post(f"{URL}{campaign.pk}/publish/")
        self.assertEqual(response.status_code, 409)
        self.assertEqual(set(response.json()) >= {"detail", "errors"}, True)

    def test_managers_and_reviewers_cannot_create_or_move_rounds(self):
        campaign = make_round(self.school, open_it=False)
        for user in (self.manager_a, self.manager_b, self.reviewer):
            self.assertEqual(
                self.api(user).post(URL, self.body(), format="json").status_code, 403
            )
            self.assertIn(
                self.api(user).post(f"{URL}{campaign.pk}/open/").status_code, (403, 404)
            )
        campaign.refresh_from_db()
        self.assertEqual(campaign.status, Campaign.Status.DRAFT)
        self.assertEqual(self.api().get(URL).status_code, 401)

    def test_bad_rounds_are_400(self):
        client = self.api(self.leader)
        now = timezone.now()
        cases = [
            (self.body(closes_at=(now - timedelta(days=1)).isoformat()), "closes_at"),
            (self.body(min_group_size=2), "min_group_size"),
            (self.body(target="1.5"), "target"),
            (
                self.body(questionnaires={"galaxy": builtin("window").pk}),
                "questionnaires",
            ),
        ]
        for body, path in cases:
            with self.subTest(path=path):
                response = client.post(URL, body, format="json")
                self.assertEqual(response.status_code, 400, response.content)
                self.assertIn(path, response.json()["errors"])
        self.assertFalse(Campaign.objects.exists())

    def test_an_unpublished_questionnaire_cannot_be_used(self):
        from questionnaires.services import questionnaire_new_version

        draft = questionnaire_new_version(questionnaire=builtin("window"))
        response = self.api(self.leader).post(
            URL, self.body(questionnaires={"window": draft.pk}), format="json"
        )
        self.assertEqual(response.status_code, 400)

    def test_an_open_round_cannot_be_edited(self):
        campaign = make_round(self.school)
        response = self.api(self.leader).patch(
            f"{URL}{campaign.pk}/", {"title": "改名"}, format="json"
        )
        self.assertEqual(response.status_code, 400)
        campaign.refresh_from_db()
        self.assertEqual(campaign.title, "测试轮次")

    def test_managers_see_rounds_and_only_their_own_points(self):
        campaign = make_round(self.school)
        self.assertEqual(self.api(self.manager_a).get(URL).json()["count"], 1)
        codes = {
            p["unit_code"]
            for p in self.api(self.manager_a)
            .get(f"{URL}{campaign.pk}/points/")
            .json()["results"]
        }
        self.assertEqual(codes, {"A", "A-1", "A-W"})
        codes_b = {
            p["unit_code"]
            for p in self.api(self.manager_b)
            .get(f"{URL}{campaign.pk}/points/")
            .json()["results"]
        }
        self.assertEqual(codes_b, {"B", "B-1"})
        point_a = campaign.points.get(unit=self.unit_a)
        self.assertEqual(
            self.api(self.manager_b)
            .get(f"{URL}{campaign.pk}/points/{point_a.pk}/")
            .status_code,
            404,
        )

    def test_a_manager_of_an_unrelated_organiser_sees_no_rounds(self):
        campaign = make_round(
            self.unit_b, title="乙机关内部测评", kinds={"branch": "wuhao-branch"}
        )
        self.assertEqual(self.api(self.manager_a).get(URL).json()["count"], 0)
        self.assertEqual(
            self.api(self.manager_a).get(f"{URL}{campaign.pk}/points/").status_code, 404
        )


class CommitmentApiTests(PersonaTestCase):
    URL = "/api/v1/commitments/"

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.campaign = make_round(cls.school)

    def test_a_manager_writes_commitments_for_its_own_units(self):
        response = self.api(self.manager_a).post(
            self.URL,
            {
                "campaign": self.campaign.pk,
                "unit": self.window_a.pk,
                "text": "当场办结",
            },
            format="json",
        )
        self.assertEqual(response.status_code, 201, response.content)

    def test_a_manager_cannot_write_for_another_unit(self):
        response = self.api(self.manager_a).post(
            self.URL,
            {"campaign": self.campaign.pk, "unit": self.unit_b.pk, "text": "越权"},
            format="json",
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("unit", response.json()["errors"])
        self.assertFalse(Commitment.objects.exists())

    def test_reads_are_scoped_and_writes_by_others_are_404(self):
        mine = Commitment.objects.create(
            campaign=self.campaign, unit=self.unit_a, text="甲的承诺"
        )
        Commitment.objects.create(
            campaign=self.campaign, unit=self.unit_b, text="乙的承诺"
        )
        texts = [
            c["text"] for c in self.api(self.manager_a).get(self.URL).json()["results"]
        ]
        self.assertEqual(texts, ["甲的承诺"])
        self.assertEqual(self.api(self.reviewer).get(self.URL).json()["count"], 2)
        self.assertEqual(
            self.api(self.manager_b).delete(f"{self.URL}{mine.pk}/").status_code, 404
        )
        self.assertEqual(
            self.api(self.reviewer).delete(f"{self.URL}{mine.pk}/").status_code, 404
        )
        self.assertTrue(Commitment.objects.filter(pk=mine.pk).exists())

    def test_commitments_are_fixed_once_the_round_closes(self):
        campaign_close(campaign=self.campaign)
        response = self.api(self.manager_a).post(
            self.URL,
            {
                "campaign": self.campaign.pk,
                "unit": self.unit_a.pk,
                "text": "迟到的承诺",
            },
            format="json",
        )
        self.assertEqual(response.status_code, 400)

    def test_a_unit_not_taking_part_in_the_round_is_refused(self):
        # As on the page: a kind the round does not evaluate, and an excluded unit
        # (in a draft and once open), get no commitments, not even from the office.
        branches_only = make_round(
            self.school, title="支部评议", kinds={"branch": "wuhao-branch"}
        )
        draft = make_round(self.school, title="春季草稿", open_it=False)
        draft.excluded_units.add(self.branch_b)
        excluded_open = make_round(
            self.school,
            title="乙不参加",
            open_it=False,
            kinds={"branch": "wuhao-branch"},
        )
        excluded_open.excluded_units.add(self.branch_b)
        campaign_open(campaign=excluded_open)
        refused = [
            (self.manager_a, branches_only, self.window_a),
            (self.manager_a, branches_only, self.unit_a),
            (self.manager_b, draft, self.branch_b),
            (self.leader, excluded_open, self.branch_b),
        ]
        for user, campaign, unit in refused:
            response = self.api(user).post(
                self.URL,
                {"campaign": campaign.pk, "unit": unit.pk, "text": "不参加"},
                format="json",
            )
            self.assertEqual(response.status_code, 400, (campaign.title, unit.code))
            self.assertEqual(
                response.json()["errors"]["unit"],
                ["该单位不参加本轮评议，不能为其填写承诺。"],
            )
        self.assertFalse(Commitment.objects.exists())
        # A unit that takes part still may, in the draft and in the open round.
        for campaign, unit in ((draft, self.branch_a), (branches_only, self.branch_a)):
            response = self.api(self.manager_a).post(
                self.URL,
                {"campaign": campaign.pk, "unit": unit.pk, "text": "参加"},
                format="json",
            )
            self.assertEqual(response.status_code, 201, response.content)

    def test_a_commitment_cannot_be_moved_to_a_unit_not_taking_part(self):
        branches_only = make_round(
            self.school, title="支部评议", kinds={"branch": "wuhao-branch"}
        )
        mine = Commitment.objects.create(
            campaign=branches_only, unit=self.branch_a, text="支部的承诺"
        )
        response = self.api(self.manager_a).patch(
            f"{self.URL}{mine.pk}/", {"unit": self.unit_a.pk}, format="json"
        )
        self.assertEqual(response.status_code, 400, response.content)
        self.assertIn("unit", response.json()["errors"])
        mine.refresh_from_db()
        self.assertEqual(mine.unit, self.branch_a)
        response = self.api(self.manager_a).patch(
            f"{self.URL}{mine.pk}/", {"text": "改过的承诺"}, format="json"
        )
        self.assertEqual(response.status_code, 200, response.content)


class ScaleApiTests(PersonaTestCase):
    URL = "/api/v1/scales/"

    def test_the_presets_exist_with_their_classes_and_scores(self):
        scales = {
            s["key"]: s for s in self.api(self.reviewer).get(self.URL).json()["results"]
        }
        self.assertEqual(
            set(scales), {"three_dk", "four", "haochaping5", "likert5", "good4"}
        )
        three = [
            (lv["label"], lv["polarity"], lv["score"])
            for lv in scales["three_dk"]["levels"]
        ]
        self.assertEqual(
            three,
            [
                ("满意", "positive", "100.00"),
                ("基本满意", "positive", "70.00"),
                ("不满意", "negative", "0.00"),
                ("不了解", "dont_know", None),
            ],
        )

    def test_the_office_changes_scores_but_not_levels(self):
        client = self.api(self.leader)
        scale = client.get(self.URL).json()["results"][0]
        levels = [dict(level) for level in scale["levels"]]
        levels[1]["score"] = "75.00"
        response = client.put(
            f"{self.URL}{scale['id']}/", {**scale, "levels": levels}, format="json"
        )
        self.assertEqual(response.status_code, 200, response.content)
        levels[1]["label"] = "还行"
        response = client.put(
            f"{self.URL}{scale['id']}/", {**scale, "levels": levels}, format="json"
        )
        self.assertEqual(response.status_code, 400)

    def test_managers_cannot_change_scales(self):
        scale = self.api(self.leader).get(self.URL).json()["results"][0]
        response = self.api(self.manager_a).patch(
            f"{self.URL}{scale['id']}/", {"name": "x"}, format="json"
        )
        self.assertEqual(response.status_code, 403)
