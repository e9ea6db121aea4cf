"""Results, exports and findings over the API, tried by every persona."""

import io

from openpyxl import load_workbook

from analysis.models import Finding
from organizations.models import Unit
from tests.base import PersonaTestCase, make_unit
from tests.questionnaires.helpers import make_round, point_of

from .synthetic import analysed, fill, published


class ResultsApiTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.tiny = make_unit(
            "A-2", Unit.Kind.BRANCH, cls.unit_a, "staff", name="=HYPERLINK(1)甲小支部"
        )
        cls.campaign = make_round(cls.school, kinds={"branch": "wuhao-branch"})
        fill(point_of(cls.campaign, cls.branch_a), n=120, satisfied=100)  # 83%: RED
        fill(point_of(cls.campaign, cls.tiny), n=3, satisfied=3)  # under the threshold
        fill(point_of(cls.campaign, cls.branch_b), n=60, satisfied=59)
        analysed(cls.campaign)
        cls.url = f"/api/v1/campaigns/{cls.campaign.pk}/results/"

    def publish(self):
        published(self.campaign)

    def units(self, user, **params):
        response = self.api(user).get(self.url, {"level": "unit", **params})
        self.assertEqual(response.status_code, 200, response.content)
        return {item["unit_code"]: item for item in response.json()["results"]}

    def test_the_office_reads_results_before_publication(self):
        items = self.units(self.leader, raw=1)
        self.assertEqual(set(items), {"A-1", "A-2", "B-1"})
        a1 = items["A-1"]
        for key in (
            "unit",
            "n_answered",
            "n_valid",
            "n_satisfied",
            "rate",
            "rate_strict",
            "ci_low",
            "ci_high",
            "p_value",
            "q_value",
            "flag",
            "suppressed",
            "settings",
        ):
            self.assertIn(key, a1)
        self.assertEqual(
            (a1["n_valid"], a1["n_satisfied"], a1["flag"]), (120, 100, "RED")
        )

    def test_managers_and_reviewers_wait_for_publication(self):
        for user in (self.manager_a, self.manager_b, self.reviewer):
            self.assertEqual(self.api(user).get(self.url).status_code, 403)
        self.assertEqual(self.api().get(self.url).status_code, 401)

    def test_after_publication_a_manager_reads_only_its_units_and_the_comparisons(self):
        self.publish()
        self.assertEqual(set(self.units(self.manager_a)), {"A-1", "A-2"})
        self.assertEqual(set(self.units(self.manager_b)), {"B-1"})
        levels = {
            item["level"]
            for item in self.api(self.manager_b).get(self.url).json()["results"]
        }
        self.assertTrue(
            {"school", "category", "unit", "dimension", "question"}
            >= levels
            >= {"school", "unit"}
        )

    def test_a_unit_under_the_threshold_is_hidden_for_a_manager_and_the_office_default(
        self,
    ):
        self.publish()
        for user in (self.manager_a, self.leader):
            hidden = self.units(user)["A-2"]
            self.assertTrue(hidden["suppressed"])
            self.assertIsNone(hidden["rate"])
            self.assertIsNone(hidden["n_valid"])

    def test_only_the_office_gets_the_raw_counts(self):
        self.publish()
        self.assertEqual(self.units(self.leader, raw=1)["A-2"]["n_valid"], 3)
        self.assertIsNone(self.units(self.manager_a, raw=1)["A-2"]["n_valid"])

    def test_the_category_total_cannot_reveal_the_hidden_unit(self):
        # are the teaching category's units: with A-2 hidden, A-1 must be too.
        self.publish()
        self.assertTrue(self.units(self.manager_a)["A-1"]["suppressed"])

    def test_exports_apply_the_same_suppression_and_neutralise_formulas(self):
        self.publish()
        export = f"{self.url}export/"
        text = (
            self.api(self.manager_a)
            .get(export, {"level": "unit"})
            .content.decode("utf-8-sig")
        )
        line = next(line for line in text.splitlines() if "甲小支部" in line)
        self.assertIn("'=HYPERLINK", line)
        self.assertNotIn(",3,", line)
        sheet = load_workbook(
            io.BytesIO(
                self.api(self.leader)
                .get(export, {"level": "unit", "filetype": "xlsx"})
                .content
            )
        ).active
        names = [row[2] for row in sheet.iter_rows(values_only=True)]
        self.assertIn("'=HYPERLINK(1)甲小支部", names)
        self.assertEqual(
            self.api(self.manager_a).get(export, {"filetype": "pdf"}).status_code, 400
        )

    def test_bad_filters_are_400(self):
        self.assertEqual(
            self.api(self.leader).get(self.url, {"level": "galaxy"}).status_code, 400
        )
        self.assertEqual(
            self.api(self.leader).get(self.url, {"unit": "x"}).status_code, 400
        )

    def test_a_manager_of_another_organiser_sees_nothing(self):
        other = make_round(
            self.unit_b, title="乙内部", kinds={"branch": "wuhao-branch"}
        )
        self.assertEqual(
            self.api(self.manager_a)
            .get(f"/api/v1/campaigns/{other.pk}/results/")
            .status_code,
            404,
        )


class FindingApiTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.campaign = make_round(cls.school, kinds={"branch": "wuhao-branch"})
        fill(point_of(cls.campaign, cls.branch_a), n=120, satisfied=100)
        fill(point_of(cls.campaign, cls.branch_b), n=60, satisfied=59)
        analysed(cls.campaign)
        cls.finding = Finding.objects.get(unit=cls.branch_a, dimension_code="")

    def test_the_office_lists_and_confirms(self):
        client = self.api(self.leader)
        self.assertGreaterEqual(client.get("/api/v1/findings/").json()["count"], 1)
        response = client.post(
            f"/api/v1/findings/{self.finding.pk}/confirm/",
            {"verification": "true"},
            format="json",
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["status"], "confirmed")
        again = client.post(
            f"/api/v1/findings/{self.finding.pk}/confirm/", {}, format="json"
        )
        self.assertEqual(again.status_code, 409)

    def test_dismissing_needs_a_reason(self):
        client = self.api(self.leader)
        response = client.post(
            f"/api/v1/findings/{self.finding.pk}/dismiss/", {}, format="json"
        )
        self.assertEqual(response.status_code, 400)
        self.assertEqual(Finding.objects.get(pk=self.finding.pk).status, "candidate")
        response = client.post(
            f"/api/v1/findings/{self.finding.pk}/dismiss/",
            {"comment": "样本集中于一次临时停电"},
            format="json",
        )
        self.assertEqual(response.json()["status"], "dismissed")

    def test_managers_see_only_confirmed_findings_of_their_units_once_published(self):
        self.assertEqual(
            self.api(self.manager_a).get("/api/v1/findings/").json()["count"], 0
        )
        self.api(self.leader).post(
            f"/api/v1/findings/{self.finding.pk}/confirm/", {}, format="json"
        )
        self.assertEqual(
            self.api(self.manager_a).get("/api/v1/findings/").json()["count"], 0
        )
        published(self.campaign)
        self.assertEqual(
            [
                f["id"]
                for f in self.api(self.manager_a)
                .get("/api/v1/findings/")
                .json()["results"]
            ],
            [self.finding.pk],
        )
        self.assertEqual(
            self.api(self.manager_b).get("/api/v1/findings/").json()["count"], 0
        )
        self.assertEqual(
            self.api(self.manager_b)
            .get(f"/api/v1/findings/{self.finding.pk}/")
            .status_code,
            404,
        )

    def test_managers_cannot_decide(self):
        published(self.campaign)
        response = self.api(self.manager_a).post(
            f"/api/v1/findings/{self.finding.pk}/confirm/", {}, format="json"
        )
        self.assertIn(response.status_code, (403, 404))
        self.assertEqual(Finding.objects.get(pk=self.finding.pk).status, "candidate")

    def test_the_analyze_endpoint_is_the_offices(self):
        url = f"/api/v1/campaigns/{self.campaign.pk}/analyze/"
        self.assertEqual(self.api(self.manager_a).post(url).status_code, 403)
        response = self.api(self.leader).post(url)
        self.assertEqual(response.status_code, 201)
        self.assertEqual(
            response.json()["findings"],
            Finding.objects.filter(campaign=self.campaign).count(),
        )
        draft = make_round(self.school, open_it=False, title="草稿轮次")
        self.assertEqual(
            self.api(self.leader)
            .post(f"/api/v1/campaigns/{draft.pk}/analyze/")
            .status_code,
            409,
        )


class ThemeApiTests(PersonaTestCase):
    COMMENTS = [
        "食堂饭菜价格太贵",
        "食堂价格偏高卫生差",
        "食堂饭菜太贵了",
        "食堂卫生需要加强价格高",
    ]

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.campaign = make_round(cls.school, kinds={"branch": "wuhao-branch"})
        fill(
            point_of(cls.campaign, cls.branch_a),
            n=30,
            satisfied=26,
            comments=cls.COMMENTS,
        )
        fill(
            point_of(cls.campaign, cls.branch_b),
            n=8,
            satisfied=8,
            comments=cls.COMMENTS,
        )
        analysed(cls.campaign)
        cls.url = f"/api/v1/campaigns/{cls.campaign.pk}/themes/"

    def test_the_office_reads_themes_of_a_unit_with_enough_comments(self):
        body = self.api(self.leader).get(self.url, {"unit": self.branch_a.pk}).json()
        self.assertTrue(body["allowed"])
        self.assertTrue(any("食堂" in " ".join(t["keywords"]) for t in body["themes"]))

    def test_below_the_thresholds_there_are_no_themes_and_a_reason(self):
        body = self.api(self.leader).get(self.url, {"unit": self.branch_b.pk}).json()
        self.assertFalse(body["allowed"])
        self.assertEqual(body["themes"], [])
        self.assertIn("10", body["reason"])

    def test_managers_wait_for_publication_and_stay_in_scope(self):
        self.assertEqual(
            self.api(self.manager_a)
            .get(self.url, {"unit": self.branch_a.pk})
            .status_code,
            403,
        )
        published(self.campaign)
        self.assertEqual(
            self.api(self.manager_a)
            .get(self.url, {"unit": self.branch_a.pk})
            .status_code,
            200,
        )
        self.assertEqual(
            self.api(self.manager_b)
            .get(self.url, {"unit": self.branch_a.pk})
            .status_code,
            404,
        )
        self.assertEqual(self.api(self.leader).get(self.url).status_code, 400)


class BreakdownLeakTests(PersonaTestCase):
    """A hidden unit's 总体评价 question row has the unit's own counts: it must go too."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.small = make_unit("A-2", Unit.Kind.BRANCH, cls.unit_a, "staff")
        cls.mid = make_unit("A-3", Unit.Kind.BRANCH, cls.unit_a, "staff")
        cls.campaign = make_round(cls.school, kinds={"branch": "wuhao-branch"})
        fill(point_of(cls.campaign, cls.branch_a), n=200, satisfied=150)
        fill(point_of(cls.campaign, cls.small), n=4, satisfied=4)
        fill(
            point_of(cls.campaign, cls.mid), n=30, satisfied=20
        )  # RED, hidden to protect A-2
        fill(
            point_of(cls.campaign, cls.branch_b), n=8, satisfied=8
        )  # under the breakdown threshold
        analysed(cls.campaign)
        published(cls.campaign)
        cls.url = f"/api/v1/campaigns/{cls.campaign.pk}/results/"

    def rows(self, user, unit):
        return (
            self.api(user)
            .get(self.url, {"unit": unit.pk, "page_size": 500})
            .json()["results"]
        )

    def test_no_row_of_a_hidden_unit_shows_figures(self):
        rows = self.rows(self.manager_a, self.mid)
        self.assertTrue(rows)
        for row in rows:
            self.assertTrue(row["suppressed"], row["label"])
            self.assertIsNone(row["n_valid"])

    def test_a_unit_under_10_shows_its_total_but_no_breakdown(self):
        rows = self.rows(self.manager_b, self.branch_b)
        unit = next(row for row in rows if row["level"] == "unit")
        self.assertFalse(unit["suppressed"])
        breakdown = [row for row in rows if row["level"] in ("dimension", "question")]
        self.assertTrue(breakdown)
        self.assertTrue(all(row["n_valid"] is None for row in breakdown))

    def test_the_finding_of_a_hidden_unit_shows_no_figures_to_its_manager(self):
        finding = Finding.objects.get(
            campaign=self.campaign, unit=self.mid, dimension_code=""
        )
        self.assertNotIn("%", finding.title)
        self.api(self.leader).post(
            f"/api/v1/findings/{finding.pk}/confirm/", {}, format="json"
        )
        seen = self.api(self.manager_a).get(f"/api/v1/findings/{finding.pk}/").json()
        self.assertEqual(seen["evidence"], {"suppressed": True})
        office = self.api(self.leader).get(f"/api/v1/findings/{finding.pk}/").json()
        self.assertEqual(office["evidence"]["n_valid"], 30)
