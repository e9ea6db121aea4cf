import io

from openpyxl import load_workbook

from organizations.models import Unit
from tests.base import PersonaTestCase

LIST = "/api/v1/units/"


def codes(response):
    return {item["code"] for item in response.json()["results"]}


class UnitsApiReadTests(PersonaTestCase):
    def test_anonymous_is_refused_with_the_error_shape(self):
        response = self.api().get(LIST)
        self.assertIn(response.status_code, (401, 403))
        self.assertEqual(set(response.json()), {"detail", "errors"})

    def test_the_office_lists_every_unit_paginated(self):
        response = self.api(self.leader).get(LIST)
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertEqual(body["count"], Unit.objects.count())
        self.assertIn("next", body)
        self.assertEqual(
            codes(response), set(Unit.objects.values_list("code", flat=True))
        )

    def test_manager_a_lists_only_the_subtree_of_a(self):
        self.assertEqual(codes(self.api(self.manager_a).get(LIST)), {"A", "A-1", "A-W"})

    def test_manager_b_lists_only_the_subtree_of_b(self):
        self.assertEqual(codes(self.api(self.manager_b).get(LIST)), {"B", "B-1"})

    def test_manager_a_gets_404_for_a_unit_of_b(self):
        response = self.api(self.manager_a).get(f"{LIST}{self.unit_b.pk}/")
        self.assertEqual(response.status_code, 404)
        self.assertEqual(set(response.json()), {"detail", "errors"})

    def test_the_reviewer_lists_everything(self):
        response = self.api(self.reviewer).get(LIST)
        self.assertEqual(response.json()["count"], Unit.objects.count())

    def test_it_filters_by_kind_category_and_parent(self):
        client = self.api(self.leader)
        self.assertEqual(codes(client.get(LIST, {"kind": "branch"})), {"A-1", "B-1"})
        self.assertEqual(codes(client.get(LIST, {"category": "administration"})), {"B"})
        self.assertEqual(codes(client.get(LIST, {"parent": self.unit_a.pk})), {"A-1"})
        self.assertEqual(codes(client.get(LIST, {"parent_code": "S"})), {"A", "B"})

    def test_filters_do_not_widen_a_managers_scope(self):
        response = self.api(self.manager_a).get(LIST, {"parent_code": "B"})
        self.assertEqual(codes(response), set())

    def test_an_invalid_filter_value_is_a_400_in_the_error_shape(self):
        response = self.api(self.leader).get(LIST, {"kind": "galaxy"})
        self.assertEqual(response.status_code, 400)
        self.assertIn("kind", response.json()["errors"])

    def test_a_page_size_can_be_asked_for(self):
        response = self.api(self.leader).get(LIST, {"page_size": 2})
        self.assertEqual(len(response.json()["results"]), 2)
        self.assertIsNotNone(response.json()["next"])


class UnitsApiWriteTests(PersonaTestCase):
    def new_branch(self, **overrides):
        body = {
            "code": "A-2",
            "name": "甲学院教工党支部",
            "kind": "branch",
            "category": "staff",
            "parent": self.unit_a.pk,
        }
        body.update(overrides)
        return body

    def test_the_office_creates_a_unit(self):
        response = self.api(self.leader).post(LIST, self.new_branch(), format="json")
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(Unit.objects.get(code="A-2").parent, self.unit_a)

    def test_managers_reviewers_and_anonymous_cannot_create(self):
        for user in (self.manager_a, self.manager_b, self.reviewer, None):
            response = self.api(user).post(LIST, self.new_branch(), format="json")
            self.assertIn(response.status_code, (401, 403), user)
        self.assertFalse(Unit.objects.filter(code="A-2").exists())

    def test_a_wrong_parent_kind_is_a_400_naming_the_field(self):
        response = self.api(self.leader).post(
            LIST, self.new_branch(parent=self.school.pk), format="json"
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("parent", response.json()["errors"])
        self.assertFalse(Unit.objects.filter(code="A-2").exists())

    def test_a_duplicate_code_is_a_400(self):
        response = self.api(self.leader).post(
            LIST, self.new_branch(code="B-1"), format="json"
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("code", response.json()["errors"])

    def test_a_cycle_is_a_400(self):
        url = f"{LIST}{self.unit_a.pk}/"
        response = self.api(self.leader).patch(
            url, {"parent": self.branch_a.pk}, format="json"
        )
        self.assertEqual(response.status_code, 400)
        self.unit_a.refresh_from_db()
        self.assertEqual(self.unit_a.parent, self.school)

    def test_the_office_renames_a_unit_and_a_manager_cannot(self):
        url = f"{LIST}{self.unit_a.pk}/"
        self.assertEqual(
            self.api(self.manager_a)
            .patch(url, {"name": "x"}, format="json")
            .status_code,
            403,
        )
        response = self.api(self.leader).patch(
            url, {"name": "甲学院党委（新）"}, format="json"
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(Unit.objects.get(pk=self.unit_a.pk).name, "甲学院党委（新）")

    def test_units_cannot_be_deleted(self):
        response = self.api(self.leader).delete(f"{LIST}{self.branch_b.pk}/")
        self.assertEqual(response.status_code, 405)
        self.assertEqual(set(response.json()), {"detail", "errors"})

    def test_a_body_of_the_wrong_type_is_a_400(self):
        response = self.api(self.leader).post(LIST, [1, 2], format="json")
        self.assertEqual(response.status_code, 400)
        self.assertIn("non_field_errors", response.json()["errors"])


class UnitsApiFileTests(PersonaTestCase):
    def upload(self, user, text: bytes, name: str = "units.csv"):
        file = io.BytesIO(text)
        file.name = name
        return self.api(user).post(f"{LIST}import/", {"file": file}, format="multipart")

    def test_the_office_imports_a_file(self):
        response = self.upload(
            self.leader,
            "code,name,kind,category,parent_code\nC,丙学院党委,committee,teaching,S\n".encode(
                "gb18030"
            ),
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["created"], ["C"])

    def test_a_bad_file_is_a_400_with_errors_by_row(self):
        text = b"code,name,kind,category,parent_code\nC,,committee,teaching,S\nD,x,committee,teaching,NOPE\n"
        response = self.upload(self.leader, text)
        self.assertEqual(response.status_code, 400)
        self.assertEqual(set(response.json()["errors"]), {"rows.2", "rows.3"})
        self.assertFalse(Unit.objects.filter(code__in=["C", "D"]).exists())

    def test_a_missing_file_is_a_400(self):
        response = self.api(self.leader).post(f"{LIST}import/", {}, format="multipart")
        self.assertEqual(response.status_code, 400)
        self.assertIn("file", response.json()["errors"])

    def test_nobody_but_the_whole_school_office_imports(self):
        text = b"code,name,kind,category,parent_code\nC,x,committee,teaching,S\n"
        for user in (self.manager_a, self.manager_b, self.reviewer, None):
            self.assertIn(self.upload(user, text).status_code, (401, 403))
        self.assertFalse(Unit.objects.filter(code="C").exists())

    def test_export_is_scoped_and_comes_in_both_formats(self):
        csv_text = (
            self.api(self.manager_a).get(f"{LIST}export/").content.decode("utf-8-sig")
        )
        self.assertEqual(
            [line.split(",")[0] for line in csv_text.splitlines()],
            ["code", "A", "A-1", "A-W"],
        )
        response = self.api(self.leader).get(f"{LIST}export/", {"filetype": "xlsx"})
        sheet = load_workbook(io.BytesIO(response.content)).active
        self.assertEqual(sheet.max_row, Unit.objects.count() + 1)
        self.assertEqual(
            self.api(self.leader)
            .get(f"{LIST}export/", {"filetype": "pdf"})
            .status_code,
            400,
        )
        self.assertIn(self.api().get(f"{LIST}export/").status_code, (401, 403))
