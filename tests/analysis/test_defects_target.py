"""Issue 12: a target of 100% makes the test against it degenerate.

``P(X ≤ k | p = 1)`` is 0 for every k < n, so one dissatisfied answer gave
p = 0 and, with 20 answers or fewer, RED. The flag rules now refuse a target
outside (0, 1), as the funnel limits already did; the round settings refuse
100% with a message where the office sets it (page and API), storing nothing;
and a round stored with 100% before is tested against 99.9%.
"""

from __future__ import annotations

import pytest
from scipy.stats import binomtest

from analysis import stats
from analysis.models import Result
from analysis.results import compute_statistics
from analysis.rows import Row
from questionnaires.models import Campaign
from tests.base import PersonaTestCase
from tests.questionnaires.helpers import builtin, make_round

REFUSAL = "目标不能是 100%"


@pytest.mark.parametrize("target", [1.0, 0.0, 1.2, -0.1])
def test_the_flag_rules_refuse_a_target_outside_zero_and_one(target: float):
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        stats.assess_units([19], [20], target)
    with pytest.raises(ValueError):
        stats.test_against_target(19, 20, target)
    with pytest.raises(ValueError):
        stats.flag_colours([19], [20], target, [0.01])
    with pytest.raises(ValueError):
        stats.funnel_limits([20], target)


def test_the_highest_target_accepted_tests_as_scipy_does():
    # 19 of 20 against 99.9%: p = 1 − 0.999²⁰ by hand, and by scipy.
    assessed = stats.assess_units([19], [20], 0.999)
    assert assessed.p_value[0] == pytest.approx(1 - 0.999**20, rel=1e-12)
    assert assessed.p_value[0] == pytest.approx(
        binomtest(19, 20, 0.999, alternative="less").pvalue, rel=1e-12
    )


def test_a_round_stored_with_100_percent_is_tested_against_99_9():
    # Before: p = 0 and 95% ≤ 100% − 5 points, so 19 of 20 was RED.
    row = Row(
        level=Result.Level.UNIT, unit_kind="branch", n_answered=20, n_valid=20, k=19
    )
    compute_statistics([row], Campaign(target="1.000", min_flag_size=10))
    expected = binomtest(19, 20, 0.999, alternative="less").pvalue
    assert row.stats["p_value"] == pytest.approx(expected, rel=1e-12)
    assert row.stats["p_value"] > 0
    assert row.stats["flag"] == "AMBER"  # 95% is not below 99.9% − 5 points


class TargetSettingTests(PersonaTestCase):
    def form(self, **changes) -> dict[str, str]:
        data = {
            "organizer": str(self.school.pk),
            "title": "满分目标",
            "description": "",
            "opens_at": "2026-10-08T08:00",
            "closes_at": "2026-10-22T18:00",
            "access_mode": "open",
            "target": "100",
            "rate_definition": "broad",
            "rate_levels": "",
            "min_group_size": "5",
            "min_flag_size": "10",
            "min_comment_responses": "10",
            "min_comments": "3",
            "baseline": "",
            "questionnaire_committee": "",
            "questionnaire_branch": str(builtin("wuhao-branch").pk),
            "questionnaire_window": "",
        }
        data.update(changes)
        return data

    def test_the_page_refuses_a_target_of_100_percent_and_saves_nothing(self):
        self.login(self.leader)
        before = Campaign.objects.count()
        response = self.client.post("/manage/campaigns/new/", self.form())
        self.assertEqual(response.status_code, 200)
        self.assertIn(REFUSAL, " ".join(response.context["form"].errors["target"]))
        self.assertContains(response, REFUSAL)
        self.assertEqual(Campaign.objects.count(), before)
        # 99.9% is the highest accepted.
        response = self.client.post("/manage/campaigns/new/", self.form(target="99.9"))
        self.assertEqual(response.status_code, 302)
        self.assertEqual(str(Campaign.objects.get(title="满分目标").target), "0.999")

    def test_an_edit_to_100_percent_is_refused_and_changes_nothing(self):
        draft = make_round(self.school, title="草稿", open_it=False)
        self.login(self.leader)
        response = self.client.post(
            f"/manage/campaigns/{draft.pk}/edit/", self.form(title="改过")
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, REFUSAL)
        draft.refresh_from_db()
        self.assertEqual((draft.title, str(draft.target)), ("草稿", "0.950"))

    def test_the_api_refuses_a_target_of_1_and_saves_nothing(self):
        before = Campaign.objects.count()
        for target in ("1", "1.000", 1):
            response = self.api(self.leader).post(
                "/api/v1/campaigns/",
                {
                    "organizer": self.school.pk,
                    "title": "接口轮次",
                    "opens_at": "2030-03-01T08:00:00+08:00",
                    "closes_at": "2030-03-15T18:00:00+08:00",
                    "access_mode": "open",
                    "target": target,
                },
                format="json",
            )
            self.assertEqual(response.status_code, 400, target)
            (message,) = response.json()["errors"]["target"]
            self.assertIn(REFUSAL, message)
        self.assertEqual(Campaign.objects.count(), before)
