"""Workflows on the organisation tree: saving one unit, importing and exporting many."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from survey_service.spreadsheets import (
    Table,
    TableError,
    read_table,
    write_csv,
    write_xlsx,
)

from .models import Unit, tree_errors

UNIT_COLUMNS = ["code", "name", "kind", "category", "parent_code"]
# Headers as Chinese offices type them are accepted too.
_HEADER_ALIASES = {
    "编码": "code",
    "单位编码": "code",
    "名称": "name",
    "单位名称": "name",
    "类型": "kind",
    "类别": "category",
    "上级编码": "parent_code",
    "上级单位编码": "parent_code",
}


def _lookup(choices: type, label_aliases: dict[str, str]) -> dict[str, str]:
    table = {value: value for value in choices.values}
    table.update({str(label): value for value, label in choices.choices})
    table.update(label_aliases)
    return table


def _kind_lookup() -> dict[str, str]:
    return _lookup(
        Unit.Kind,
        {
            "党委": "committee",
            "党总支": "committee",
            "支部": "branch",
            "服务窗口": "window",
            "示范岗": "window",
            "窗口": "window",
        },
    )


def _category_lookup() -> dict[str, str]:
    return _lookup(Unit.Category, {"教工党支部": "staff", "学生党支部": "student"})


# --- One unit -------------------------------------------------------------------


def unit_save(*, unit: Unit) -> Unit:
    """Validate a unit's place in the tree (cycle, parent kind, category) and save it."""
    unit.full_clean()
    with transaction.atomic():
        unit.save()
    return unit


# --- Import ---------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    row: int | None  # spreadsheet row number; None for the file as a whole
    code: str
    messages: list[str]

    def __str__(self) -> str:
        where = _("第 %(row)d 行") % {"row": self.row} if self.row else _("文件")
        label = f"（{self.code}）" if self.code else ""
        return f"{where}{label}：" + "；".join(self.messages)


class ImportRefused(Exception):
    """Nothing was written; ``errors`` lists each bad row and why."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("\n".join(str(error) for error in errors))
        self.errors = errors

    def as_dict(self) -> dict[str, list[str]]:
        """``{"rows.7": [...], "file": [...]}`` for the API's error shape."""
        result: dict[str, list[str]] = {}
        for error in self.errors:
            key = f"rows.{error.row}" if error.row else "file"
            result.setdefault(key, []).extend(error.messages)
        return result


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    encoding: str = ""


@dataclass
class _Row:
    number: int
    code: str
    name: str
    kind: str
    category: str
    parent_code: str
    errors: list[str] = field(default_factory=list)


def _parse_rows(table: Table) -> list[_Row]:
    headers = [_HEADER_ALIASES.get(header, header) for header in table.headers]
    missing = [column for column in UNIT_COLUMNS if column not in headers]
    if missing:
        raise ImportRefused(
            [RowError(1, "", [_("缺少列：%(cols)s。") % {"cols": ", ".join(missing)}])]
        )
    position = {column: headers.index(column) for column in UNIT_COLUMNS}
    kinds, categories = _kind_lookup(), _category_lookup()
    rows: list[_Row] = []
    for number, cells in table.rows:
        padded = [*cells, *[""] * len(headers)]
        values = {column: padded[index].strip() for column, index in position.items()}
        raw_kind, raw_category = values["kind"], values["category"]
        row = _Row(
            number=number,
            code=values["code"],
            name=values["name"],
            kind=kinds.get(raw_kind, ""),
            category=categories.get(raw_category, "") if raw_category else "",
            parent_code=values["parent_code"],
        )
        if not row.code:
            row.errors.append(_("编码为空。"))
        elif len(row.code) > 32 or any(ch.isspace() for ch in row.code):
            row.errors.append(_("编码不能含空白，且最多 32 个字符。"))
        if not row.name:
            row.errors.append(_("名称为空。"))
        elif len(row.name) > 100:
            row.errors.append(_("名称最多 100 个字符。"))
        if not row.kind:
            row.errors.append(
                _("未知的类型“%(kind)s”（可用：%(choices)s）。")
                % {
                    "kind": raw_kind,
                    "choices": "、".join(str(lb) for lb in Unit.Kind.labels),
                }
            )
        if raw_category and not row.category:
            row.errors.append(
                _("未知的类别“%(category)s”。") % {"category": raw_category}
            )
        rows.append(row)
    return rows


def _check_duplicates(rows: list[_Row]) -> None:
    first_seen: dict[str, int] = {}
    for row in rows:
        if not row.code:
            continue
        if row.code in first_seen:
            row.errors.append(
                _("编码 %(code)s 与第 %(row)d 行重复。")
                % {"code": row.code, "row": first_seen[row.code]}
            )
        else:
            first_seen[row.code] = row.number


def _check_tree(rows: list[_Row], existing: dict[str, Unit]) -> None:
    """Check parents, cycles and kinds on the tree as it would be after the import."""
    by_code = {row.code: row for row in rows if row.code}
    parent_of = {
        code: unit.parent.code if unit.parent else "" for code, unit in existing.items()
    }
    kind_of = {code: unit.kind for code, unit in existing.items()}
    for code, row in by_code.items():
        parent_of[code] = row.parent_code
        kind_of[code] = row.kind

    for row in rows:
        if row.errors or not row.code:
            continue
        if row.parent_code and row.parent_code not in parent_of:
            row.errors.append(
                _("上级编码 %(code)s 不存在。") % {"code": row.parent_code}
            )
            continue
        path, code = [row.code], row.parent_code
        while code and code not in path:
            path.append(code)
            code = parent_of.get(code, "")
        if code:
            row.errors.append(
                _("上级关系形成循环：%(path)s。") % {"path": " → ".join([*path, code])}
            )
            continue
        parent = (
            Unit(code=row.parent_code, kind=kind_of[row.parent_code])
            if row.parent_code
            else None
        )
        problems = tree_errors(
            kind=row.kind,
            category=row.category,
            parent=parent,
            ancestors_of=list,
            self_pk=None,
        )
        row.errors.extend(
            message for messages in problems.values() for message in messages
        )

    # A unit already in the database, left out of the file, must still fit under
    # a parent whose kind the file changes.
    for code, unit in existing.items():
        if code in by_code or not unit.parent:
            continue
        parent_row = by_code.get(unit.parent.code)
        if parent_row and not parent_row.errors and parent_row.kind != unit.parent.kind:
            if parent_row.kind not in Unit.ALLOWED_PARENTS[unit.kind]:
                parent_row.errors.append(
                    _("改为此类型后，已有下级单位 %(child)s 不能再隶属于它。")
                    % {"child": code}
                )


def _depth(code: str, parent_of: dict[str, str]) -> int:
    depth = 0
    while parent_of.get(code):
        code, depth = parent_of[code], depth + 1
    return depth


def units_import(*, data: bytes, filename: str) -> ImportResult:
    """Create or update units from a CSV or XLSX file, all or nothing.

    Units are matched by code. Any bad row raises ImportRefused listing every bad
    row by number, and nothing is written. Importing the same file again changes
    nothing.
    """
    try:
        table = read_table(data, filename)
    except TableError as exc:
        raise ImportRefused([RowError(None, "", [str(exc)])]) from None
    rows = _parse_rows(table)
    if not rows:
        raise ImportRefused([RowError(None, "", [_("文件中没有单位数据。")])])
    _check_duplicates(rows)

    with transaction.atomic():
        existing = {unit.code: unit for unit in Unit.objects.select_related("parent")}
        _check_tree(rows, existing)
        bad = [RowError(row.number, row.code, row.errors) for row in rows if row.errors]
        if bad:
            raise ImportRefused(bad)

        parent_of = {
            code: unit.parent.code if unit.parent else ""
            for code, unit in existing.items()
        }
        parent_of.update({row.code: row.parent_code for row in rows})
        result = ImportResult(encoding=table.encoding)
        units = dict(existing)
        for row in sorted(rows, key=lambda r: _depth(r.code, parent_of)):
            parent = units[row.parent_code] if row.parent_code else None
            unit = units.get(row.code)
            wanted = {
                "name": row.name,
                "kind": row.kind,
                "category": row.category,
                "parent": parent,
            }
            if unit is None:
                unit = Unit(code=row.code, **wanted)
                result.created.append(row.code)
            elif any(getattr(unit, key) != value for key, value in wanted.items()):
                for key, value in wanted.items():
                    setattr(unit, key, value)
                result.updated.append(row.code)
            else:
                result.unchanged.append(row.code)
                continue
            try:
                unit.full_clean(validate_unique=False)
                unit.save()
            except (ValidationError, IntegrityError) as exc:
                # Checked above; reaching here means a concurrent change. Raising
                # leaves the atomic block, which rolls the whole file back.
                raise ImportRefused(
                    [RowError(row.number, row.code, [str(exc)])]
                ) from None
            units[row.code] = unit
    return result


# --- Export ---------------------------------------------------------------------


def tree_order(units: list[Unit]) -> list[Unit]:
    children: dict[int | None, list[Unit]] = {}
    ids = {unit.pk for unit in units}
    for unit in units:
        key = unit.parent_id if unit.parent_id in ids else None
        children.setdefault(key, []).append(unit)
    ordered: list[Unit] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        unit = stack.pop()
        ordered.append(unit)
        stack.extend(reversed(children.get(unit.pk, [])))
    return ordered


def units_export_rows(units) -> list[list[str]]:
    """Rows in tree order (parents first), columns as :data:`UNIT_COLUMNS`."""
    units = list(units.select_related("parent").order_by("sort_order", "code"))
    return [
        [
            unit.code,
            unit.name,
            unit.kind,
            unit.category,
            unit.parent.code if unit.parent else "",
        ]
        for unit in tree_order(units)
    ]


def units_export(units, *, fmt: str) -> bytes:
    rows = units_export_rows(units)
    if fmt == "xlsx":
        return write_xlsx(UNIT_COLUMNS, rows, title="units")
    return write_csv(UNIT_COLUMNS, rows)
