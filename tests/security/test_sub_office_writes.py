"""What the office of one 二级党组织 may not write: the school's shared scales and
questionnaires, tasks moved to units it does not run, and promises of a round that
has ended."""

from __future__ import annotations

from django.contrib.admin import site
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import RequestFactory

from analysis.models import Finding
from organizations.models import Membership
from questionnaires.models import Commitment, Questionnaire, Scale, ScaleLevel
from questionnaires.services import campaign_close
from rectification.models import Task, TaskEvent
from tests.base import PersonaTestCase, make_user
from tests.questionnaires.helpers import builtin, make_round

DRAFT_SPEC = {
    "key": "sub-office-draft",
    "title": "学院自拟问卷",
    "target_kind": "branch",
    "dimensions": [],
    "questions": [
        {"code": "overall", "kind": "scale", "text": "总体评价", "scale": "three_dk"}
    ],
}


class SharedConfigurationTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.office_a = make_user("office_a", Membership.Role.OFFICE, cls.unit_a)

    def test_a_sub_office_cannot_rescore_a_shared_scale(self):
        scale = self.api(self.leader).get("/api/v1/scales/").json()["results"][0]
        levels = [dict(level) for level in scale["levels"]]
        levels[1]["score"] = "99.00"
        before = list(ScaleLevel.objects.values_list("score", flat=True))
        for method in ("put", "patch"):
            response = getattr(self.api(self.office_a), method)(
                f"/api/v1/scales/{scale['id']}/",
                {**scale, "levels": levels},
                format="json",
            )
            self.assertEqual(response.status_code, 403, method)
        response = self.api(self.office_a).post(
            "/api/v1/scales/",
            {**scale, "key": "own_scale", "levels": levels},
            format="json",
        )
        self.assertEqual(response.status_code, 403)
        self.assertEqual(
            list(ScaleLevel.objects.values_list("score", flat=True)), before
        )
        self.assertFalse(Scale.objects.filter(key="own_scale").exists())

    def test_a_sub_office_cannot_create_publish_or_delete_questionnaires(self):
        url = "/api/v1/questionnaires/"
        self.assertEqual(
            self.api(self.office_a).post(url, DRAFT_SPEC, format="json").status_code,
            403,
        )
        created = self.api(self.leader).post(url, DRAFT_SPEC, format="json")
        self.assertEqual(created.status_code, 201, created.content)
        draft = created.json()["id"]
        client = self.api(self.office_a)
        self.assertEqual(client.post(f"{url}{draft}/publish/").status_code, 403)
        self.assertEqual(client.delete(f"{url}{draft}/").status_code, 403)
        self.assertEqual(
            client.post(f"{url}{builtin('window').pk}/new-version/").status_code, 403
        )
        self.assertFalse(Questionnaire.objects.get(pk=draft).is_published)

    def test_the_schools_office_still_can(self):
        scale = self.api(self.leader).get("/api/v1/scales/").json()["results"][0]
        response = self.api(self.leader).patch(
            f"/api/v1/scales/{scale['id']}/", {"name": scale["name"]}, format="json"
        )
        self.assertEqual(response.status_code, 200, response.content)

    def test_the_admin_gives_a_sub_office_no_write_on_shared_configuration(self):
        self.office_a.is_staff = True
        self.office_a.save()
        self.office_a.user_permissions.add(
            *Permission.objects.filter(
                content_type__app_label="questionnaires",
                content_type__model__in=["scale", "questionnaire"],
            )
        )
        request = RequestFactory().get("/admin/")
        request.user = get_user_model().objects.get(pk=self.office_a.pk)
        for model in (Scale, Questionnaire):
            admin = site._registry[model]
            self.assertFalse(admin.has_add_permission(request), model)
            self.assertFalse(admin.has_change_permission(request), model)
            draft = model.objects.first()
            self.assertFalse(admin.has_delete_permission(request, draft), model)


class TaskUnitTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.office_a = make_user("office_a", Membership.Role.OFFICE, cls.unit_a)
        cls.campaign = make_round(cls.school, kinds={"branch": "wuhao-branch"})
        cls.finding = Finding.objects.create(
            campaign=cls.campaign,
            unit=cls.branch_a,
            trigger="statistical",
            title="甲支部问题",
            status="confirmed",
        )

    def create(self, user, **body):
        return self.api(user).post("/api/v1/tasks/", body, format="json")

    def test_a_sub_office_cannot_name_cooperating_units_outside_its_subtree(self):
        response = self.create(
            self.office_a,
            title="联合整改",
            lead_unit=self.branch_a.pk,
            cooperating_units=[self.branch_b.pk],
        )
        self.assertEqual(response.status_code, 400, response.content)
        self.assertFalse(Task.objects.exists())

    def test_a_sub_office_cannot_move_a_task_outside_its_subtree(self):
        response = self.create(
            self.office_a, title="甲的任务", lead_unit=self.branch_a.pk
        )
        self.assertEqual(response.status_code, 201, response.content)
        task = Task.objects.get()
        events = TaskEvent.objects.count()
        response = self.api(self.office_a).patch(
            f"/api/v1/tasks/{task.pk}/", {"lead_unit": self.branch_b.pk}, format="json"
        )
        self.assertEqual(response.status_code, 400, response.content)
        client = self.api(self.office_a)
        self.assertEqual(
            client.post(
                f"/api/v1/tasks/{task.pk}/transitions/", {"action": "verify"}
            ).status_code,
            200,
        )
        response = client.post(
            f"/api/v1/tasks/{task.pk}/transitions/",
            {"action": "assign", "fields": {"lead_unit": self.branch_b.pk}},
            format="json",
        )
        self.assertIn(response.status_code, (400, 409), response.content)
        task.refresh_from_db()
        self.assertEqual(task.lead_unit, self.branch_a)
        self.assertEqual(task.state, "verifying")
        self.assertEqual(TaskEvent.objects.count(), events + 1)  # the verify only

    def test_inside_its_subtree_it_may(self):
        response = self.create(
            self.office_a,
            title="甲的任务",
            lead_unit=self.unit_a.pk,
            cooperating_units=[self.branch_a.pk],
        )
        self.assertEqual(response.status_code, 201, response.content)
        task = Task.objects.get()
        response = self.api(self.office_a).patch(
            f"/api/v1/tasks/{task.pk}/", {"lead_unit": self.branch_a.pk}, format="json"
        )
        self.assertEqual(response.status_code, 200, response.content)


class FinishedRoundCommitmentTests(PersonaTestCase):
    def test_a_patch_without_the_round_cannot_change_a_finished_rounds_promise(self):
        campaign = make_round(self.school, kinds={"branch": "wuhao-branch"})
        promise = Commitment.objects.create(
            campaign=campaign, unit=self.branch_a, text="原来的承诺"
        )
        campaign_close(campaign=campaign)
        for body in ({"text": "事后改写"}, {"text": "事后改写", "order": 3}):
            response = self.api(self.manager_a).patch(
                f"/api/v1/commitments/{promise.pk}/", body, format="json"
            )
            self.assertEqual(response.status_code, 400, response.content)
        promise.refresh_from_db()
        self.assertEqual(promise.text, "原来的承诺")
