from analysis.models import Finding
from questionnaires.services import campaign_close, campaign_publish
from rectification.models import Task
from tests.base import PersonaTestCase
from tests.questionnaires.helpers import make_round, point_of


class PublicBoardTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.campaign = make_round(cls.school, kinds={"branch": "wuhao-branch"})
        finding = Finding.objects.create(
            campaign=cls.campaign,
            unit=cls.branch_a,
            trigger="statistical",
            title="窗口态度差",
            status="confirmed",
            evidence={"examples": ["某老师态度很差"]},
        )
        Task.objects.create(
            finding=finding,
            campaign=cls.campaign,
            source="survey",
            title="改进窗口服务态度",
            measures="每周培训",
            lead_unit=cls.branch_a,
            state="in_progress",
            cause_analysis="内部原因：值班人员不足",
        )
        Task.objects.create(
            finding=finding,
            campaign=cls.campaign,
            source="survey",
            title="尚在核实的事项",
            lead_unit=cls.branch_a,
            state="verifying",
        )
        campaign_close(campaign=cls.campaign)
        campaign_publish(campaign=cls.campaign)
        cls.url = f"/public/campaigns/{cls.campaign.pk}/"

    def test_anyone_sees_problems_measures_and_state(self):
        response = self.client.get(self.url)
        self.assertContains(response, "改进窗口服务态度")
        self.assertContains(response, "每周培训")
        self.assertContains(response, "整改中")

    def test_it_shows_no_comments_causes_or_unverified_tasks(self):
        response = self.client.get(self.url)
        for hidden in ("某老师态度很差", "尚在核实的事项", "值班人员不足"):
            self.assertNotContains(response, hidden)

    def test_only_a_published_round_has_a_board(self):
        draft = make_round(self.school, open_it=False, title="草稿")
        running = make_round(self.school, title="进行中")
        finished = make_round(self.school, title="已结束未发布")
        campaign_close(campaign=finished)
        for campaign in (draft, running, finished):
            response = self.client.get(f"/public/campaigns/{campaign.pk}/")
            self.assertEqual(response.status_code, 404, campaign.title)

    def test_the_next_rounds_thank_you_page_links_to_the_published_board(self):
        running = make_round(
            self.school, title="下一轮", kinds={"branch": "wuhao-branch"}
        )
        point = point_of(running, self.branch_a)
        self.assertContains(self.client.get(f"/s/{point.token}/done/"), self.url)

    def test_with_nothing_published_there_is_no_link(self):
        other = make_round(
            self.unit_b, title="乙自己的轮次", kinds={"branch": "wuhao-branch"}
        )
        point = point_of(other, self.branch_b)
        self.assertNotContains(
            self.client.get(f"/s/{point.token}/done/"), "/public/campaigns/"
        )
