"""analysis.bulk_insert writes the rows bulk_create would (COPY on PostgreSQL)."""

from django.db.models import Model

from analysis.bulk_insert import bulk_insert
from analysis.models import AnalysisRun, Result
from tests.base import PersonaTestCase
from tests.questionnaires.helpers import make_round


def stored(run: AnalysisRun) -> list[dict]:
    fields = [
        f.attname for f in Result._meta.concrete_fields if f.name not in ("id", "run")
    ]
    return list(run.results.order_by("label").values(*fields))


class BulkInsertTests(PersonaTestCase):
    def results(self, run: AnalysisRun) -> list[Model]:
        """Rows with every kind of value: None, floats, integers, booleans,
        choices, Chinese text and JSON."""
        return [
            Result(
                run=run,
                level=Result.Level.UNIT,
                unit=self.branch_a,
                category="student",
                unit_kind="branch",
                label="第一党支部：“满意”率",
                source="items",
                n_responses=40,
                n_valid=38,
                n_satisfied=30,
                level_counts={"satisfied": 30, "不满意": 8, "nested": [1, 2.5]},
                rate=30 / 38,
                ci_low=0.63,
                ci_high=None,
                p_value=1e-300,
                flag="RED",
                suppressed=True,
                ballots_issued=None,
            ),
            Result(
                run=run,
                level=Result.Level.SCHOOL,
                label="全校",
                n_responses=0,
                level_counts={},
                rate=None,
                score=-0.0,
                alpha=0.912345678901234,
            ),
            Result(run=run, level="question", label="tab\tnew\nline \\ back"),
        ]

    def test_the_rows_equal_those_bulk_create_writes(self):
        campaign = make_round(self.school)
        copied = AnalysisRun.objects.create(campaign=campaign, settings={})
        created = AnalysisRun.objects.create(campaign=campaign, settings={})
        bulk_insert(Result, self.results(copied))
        Result.objects.bulk_create(self.results(created))
        self.assertEqual(len(stored(copied)), 3)
        self.assertEqual(stored(copied), stored(created))

    def test_nothing_is_written_for_no_rows(self):
        campaign = make_round(self.school)
        run = AnalysisRun.objects.create(campaign=campaign, settings={})
        bulk_insert(Result, [])
        self.assertFalse(run.results.exists())
