"""point_by_token gives the instances the ORM's select_related get() gives."""

from __future__ import annotations

from django.db.models import Model

from questionnaires.models import Campaign, CollectionPoint
from questionnaires.point_lookup import point_by_token
from tests.base import PersonaTestCase

from .helpers import make_round, point_of


def fields(instance: Model) -> dict:
    return {k: v for k, v in vars(instance).items() if k != "_state"}


class PointLookupTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.campaign = make_round(cls.school)
        cls.point = point_of(cls.campaign, cls.window_a)

    def test_it_loads_what_the_orm_loads_with_the_same_values_and_types(self):
        mine = point_by_token(self.point.token)
        orm = CollectionPoint.objects.select_related(
            "campaign", "unit", "questionnaire"
        ).get(token=self.point.token)
        self.assertEqual(fields(mine), fields(orm))
        for name in ("campaign", "unit", "questionnaire"):
            with self.subTest(name):
                related, expected = getattr(mine, name), getattr(orm, name)
                self.assertEqual(fields(related), fields(expected))
                self.assertEqual(
                    {k: type(v) for k, v in fields(related).items()},
                    {k: type(v) for k, v in fields(expected).items()},
                )
        self.assertIsNotNone(mine.campaign.opens_at.tzinfo)
        self.assertFalse(mine._state.adding)
        self.assertEqual(mine._state.db, "default")
        # Loaded with it: reading them queries nothing.
        with self.assertNumQueries(0):
            read = (mine.campaign.status, mine.unit.name, mine.questionnaire.pk)
        self.assertEqual(
            read, ("open", self.window_a.name, self.point.questionnaire_id)
        )

    def test_an_unknown_token_is_none(self):
        self.assertIsNone(point_by_token("no-such-token"))

    def test_it_reads_the_round_fresh_each_time(self):
        self.assertEqual(point_by_token(self.point.token).campaign.status, "open")
        Campaign.objects.filter(pk=self.campaign.pk).update(status="closed")
        self.assertEqual(point_by_token(self.point.token).campaign.status, "closed")
