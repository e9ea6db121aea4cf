"""The results pages state φ, the shrinkage's pooling and what each unit's n can
detect (analysis/_method_state.html), from the run's recorded method state."""

from __future__ import annotations

import re

import numpy as np
from scipy.stats import mstats, norm

from analysis.models import AnalysisRun, Result
from organizations.models import Unit
from tests.base import PersonaTestCase, make_unit
from tests.questionnaires.helpers import make_round, point_of

from .synthetic import analysed, fill

# Twelve branches of 20 answers whose rates spread far beyond binomial noise.
SATISFIED = [20, 20, 19, 19, 18, 12, 10, 20, 19, 8, 20, 15]


def independent_phi(k: np.ndarray, n: np.ndarray) -> float:
    """Spiegelhalter's φ written out with scipy's winsorising and the normal
    consistency factor from scipy's normal distribution."""
    pooled = k.sum() / n.sum()
    z = (k / n - pooled) / np.sqrt(pooled * (1 - pooled) / n)
    winsorised = np.asarray(mstats.winsorize(z, limits=(0.1, 0.1)))
    a = norm.ppf(0.9)
    c = 0.8 - 2 * a * norm.pdf(a) + 0.2 * a * a
    return float(np.mean(winsorised**2) / c)


class MethodStateTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.branches = [
            make_unit(f"M-{i}", Unit.Kind.BRANCH, cls.unit_a, "staff", name=f"支部{i}")
            for i in range(len(SATISFIED))
        ]
        cls.campaign = make_round(cls.school, kinds={"branch": "wuhao-branch"})
        for unit, satisfied in zip(cls.branches, SATISFIED, strict=True):
            fill(point_of(cls.campaign, unit), n=20, satisfied=satisfied)
        cls.analysis = analysed(cls.campaign)
        cls.overview = f"/manage/campaigns/{cls.campaign.pk}/results/"

    def page(self, url: str) -> str:
        self.client.force_login(self.leader)
        response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        return response.content.decode()

    def unit_family(self) -> dict:
        return next(
            family
            for family in self.analysis.settings["method_state"]["families"]
            if family["level"] == "unit" and family["unit_kind"] == "branch"
        )

    def test_it_records_phi_of_the_unit_family_as_spiegelhalter_defines_it(self):
        state = self.unit_family()["overdispersion"]
        k = np.array(SATISFIED, dtype=float)
        expected = independent_phi(k, np.full(k.size, 20.0))
        self.assertAlmostEqual(state["phi"], expected, places=5)
        self.assertEqual(state["units"], len(SATISFIED))
        self.assertTrue(state["applied"])

    def test_the_results_page_shows_phi_and_the_pooling_state(self):
        html = self.page(self.overview)
        section = html[html.index('id="method-state"') :]
        phi = self.unit_family()["overdispersion"]["phi"]
        self.assertIn(f"{phi:.2f}", section)
        self.assertIn("已采用：区间、检验和漏斗图控制限已放宽", section)
        pooling = self.unit_family()["shrinkage"]
        self.assertEqual(pooling["status"], "fitted")
        share = f"{100 * pooling['pooling']:.0f}%"
        self.assertIn(f"部分合并：各单位的估计平均有 {share}", section)
        # Inside the collapsed section of s4's page, not above it.
        self.assertLess(
            html.index("统计方法说明（供核查）"), html.index("method-state")
        )
        # The funnel's limits are widened and its legend says so.
        self.assertIn(f"控制限已按过度离散 φ = {phi:.2f} 放宽", html)

    def test_it_gives_amber_and_green_units_their_detectable_rate(self):
        html = self.page(self.overview)
        table = html[html.index('id="power-table"') :]
        table = table[: table.index("</table>")]
        flagged = Result.objects.filter(
            run=self.analysis, level="unit", flag__in=["AMBER", "GREEN"]
        )
        self.assertTrue(flagged.exists())
        for row in flagged:
            self.assertIn(row.unit.name, table)
        self.assertNotIn("GREEN_CONFIRMED", table)
        # Every unit has n = 20: one minimum detectable rate for all, as a share.
        self.assertRegex(table, r"≤ \d+\.\d%")
        rows = re.findall(r"<tr>.*?</tr>", table, re.S)[1:]
        self.assertEqual(len(rows), flagged.count())

    def test_the_ranking_says_what_each_amber_or_green_unit_could_show(self):
        html = self.page(self.overview)
        ranking = html[html.index('id="ranking"') :]
        ranking = ranking[: ranking.index("</section>")]
        rows = re.findall(r"<tr>.*?</tr>", ranking, re.S)
        flags = dict(
            Result.objects.filter(run=self.analysis, level="unit").values_list(
                "unit__name", "flag"
            )
        )
        seen = 0
        for row in rows:
            name = next((u for u in flags if f">{u}<" in row), None)
            if name is None:
                continue
            seen += 1
            beside = "可检出 ≤" in row
            self.assertEqual(beside, flags[name] in ("AMBER", "GREEN"), name)
        self.assertEqual(seen, len(SATISFIED))

    def test_the_unit_report_shows_the_state_of_its_kind(self):
        unit = self.branches[0]
        html = self.page(
            f"/manage/campaigns/{self.campaign.pk}/units/{unit.pk}/report/"
        )
        section = html[html.index('id="method-state"') :]
        self.assertIn("已采用", section)
        self.assertIn("部分合并", section)

    def test_a_run_from_before_the_state_was_recorded_says_so(self):
        run = AnalysisRun.objects.get(pk=self.analysis.pk)
        run.settings.pop("method_state")
        run.save(update_fields=["settings"])
        html = self.page(self.overview)
        self.assertIn("本轮结果统计时尚未记录过度离散 φ 和收缩状态", html)
        self.assertNotIn('id="phi-table"', html)
