"""The office could watch individuals answer: analyse an open round, wait for one
submission, analyse again, and read the difference. Open rounds are analysed only
after the close; while they run the office sees coarse progress."""

from __future__ import annotations

import io
import re
from html import unescape

from django.core.management import CommandError, call_command

from analysis.models import AnalysisRun
from analysis.services import campaign_analyze
from questionnaires.models import Campaign
from questionnaires.services import StateError, campaign_close
from tests.analysis.synthetic import fill
from tests.base import PersonaTestCase
from tests.questionnaires.helpers import make_round, point_of


class OpenRoundAnalysisTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.campaign = make_round(cls.school, kinds={"branch": "wuhao-branch"})
        fill(point_of(cls.campaign, cls.branch_a), n=17, satisfied=16)
        fill(point_of(cls.campaign, cls.branch_b), n=3, satisfied=3)

    def test_the_service_refuses_an_open_round(self):
        with self.assertRaises(StateError):
            campaign_analyze(campaign=self.campaign)
        self.assertFalse(AnalysisRun.objects.exists())

    def test_the_api_the_page_and_the_command_refuse_it(self):
        response = self.api(self.leader).post(
            f"/api/v1/campaigns/{self.campaign.pk}/analyze/"
        )
        self.assertEqual(response.status_code, 409)
        self.client.force_login(self.leader)
        url = f"/manage/campaigns/{self.campaign.pk}/results/"
        self.assertNotIn("立即统计", self.client.get(url).content.decode())
        page = self.client.post(f"{url}analyze/", follow=True)
        self.assertContains(page, "评议结束后才能统计")
        with self.assertRaisesMessage(CommandError, "still open"):
            call_command(
                "analyze_campaign", str(self.campaign.pk), stdout=io.StringIO()
            )
        self.assertFalse(AnalysisRun.objects.exists())

    def test_after_the_close_it_is_analysed(self):
        campaign_close(campaign=self.campaign)
        response = self.api(self.leader).post(
            f"/api/v1/campaigns/{self.campaign.pk}/analyze/"
        )
        self.assertEqual(response.status_code, 201, response.content)

    def test_a_run_of_an_open_round_is_not_read(self):
        """A run made while the round was open (by an older version) shows nothing."""
        campaign_close(campaign=self.campaign)
        campaign_analyze(campaign=self.campaign)
        Campaign.objects.filter(pk=self.campaign.pk).update(status="open")
        response = self.api(self.leader).get(
            f"/api/v1/campaigns/{self.campaign.pk}/results/"
        )
        self.assertIn(response.status_code, (403, 409), response.content)

    def counts(self) -> list[str]:
        self.client.force_login(self.leader)
        html = self.client.get(f"/manage/campaigns/{self.campaign.pk}/").content
        cells = re.findall(r'<td class="num">([^<]*)</td>', html.decode())
        return [unescape(cell).strip() for cell in cells]

    def test_the_office_sees_progress_in_steps_of_five_while_it_runs(self):
        counts = self.counts()
        self.assertIn("15+", counts)
        self.assertIn("<5", counts)
        self.assertNotIn("17", counts)
        self.assertNotIn("3", counts)
        campaign_close(campaign=self.campaign)
        counts = self.counts()
        self.assertIn("17", counts)
        self.assertIn("3", counts)
