"""The office's questionnaire editor: copy a version into a new draft, edit the
draft's settings, dimensions and questions one change at a time, publish it.

Every edit works on the draft's nested spec (:func:`services.questionnaire_spec`):
it locks the draft, changes the spec, checks the whole of it and writes it back
with :func:`services.questionnaire_replace_draft`, all in one transaction. A
draft's rows are renewed on every edit, so pages name a draft by its key and
version and its dimensions and questions by their codes, which edits keep.

Refusals are :class:`DraftInvalid` (with messages per form field) and
:class:`DraftFrozen` (a published version: 已发布的问卷不能修改).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from .models import Question, Questionnaire, Scale
from .round_settings import EVALUATED_KINDS
from .services import (
    ServiceError,
    StateError,
    questionnaire_create,
    questionnaire_publish,
    questionnaire_replace_draft,
    questionnaire_spec,
)

SLUG = re.compile(r"[-a-zA-Z0-9_]+")
CHOICE_KINDS = (Question.Kind.SINGLE, Question.Kind.MULTIPLE)
UP, DOWN = "up", "down"
DESCRIPTION_MAX = 2000


class DraftInvalid(ServiceError):
    """An edit refused, with the reasons per form field (``errors``; the key
    ``__all__`` holds reasons that concern no one field)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("；".join(m for messages in errors.values() for m in messages))
        self.errors = errors


class DraftFrozen(StateError):
    code = "frozen"

    def __init__(self, message: str = "") -> None:
        super().__init__(message or frozen_message())


def frozen_message() -> str:
    return _("已发布的问卷不能修改，请新建版本。")


@dataclass(frozen=True)
class QuestionFields:
    """A question as the office enters it. ``code`` empty: keep the question's
    code (or make one for a new question); ``dimension`` empty: no dimension."""

    text: str
    kind: str
    scale: str | None = None
    options: tuple[str, ...] = ()
    required: bool = False
    headline: bool = False
    help_text: str = ""
    dimension: str = ""
    code: str = ""


@dataclass
class _Errors:
    by_field: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.by_field.setdefault(name, []).append(message)

    def raise_any(self) -> None:
        if self.by_field:
            raise DraftInvalid(self.by_field)


# --- The spec -------------------------------------------------------------------


def all_questions(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every question of a spec in the order respondents see them."""
    return [q for d in spec["dimensions"] for q in d["questions"]] + spec["questions"]


def _group_of(spec: dict[str, Any], code: str) -> list[dict[str, Any]]:
    """The list (a dimension's, or the one outside dimensions) holding question
    ``code``."""
    for group in [d["questions"] for d in spec["dimensions"]] + [spec["questions"]]:
        if any(q["code"] == code for q in group):
            return group
    raise DraftInvalid({"__all__": [_("问卷中没有这道题（可能已被删除）。")]})


def _dimension(spec: dict[str, Any], code: str) -> dict[str, Any]:
    for dimension in spec["dimensions"]:
        if dimension["code"] == code:
            return dimension
    raise DraftInvalid({"__all__": [_("问卷中没有这个维度（可能已被删除）。")]})


def _new_code(prefix: str, taken: set[str]) -> str:
    number = len(taken) + 1
    while f"{prefix}{number}" in taken:
        number += 1
    return f"{prefix}{number}"


def _check_code(
    errors: _Errors, code: str, taken: set[str], taken_message: str
) -> None:
    if len(code) > 40 or not SLUG.fullmatch(code):
        errors.add(
            "code", _("编码只能用英文字母、数字、短横线和下划线，最多 40 个字符。")
        )
    elif code == "add":  # the pages' address for adding one
        errors.add("code", _("编码不能是“add”。"))
    elif code in taken:
        errors.add("code", taken_message % {"code": code})


def spec_errors(spec: dict[str, Any]) -> dict[str, list[str]]:
    """Why ``spec`` may not be a questionnaire version; empty when it may. The
    rules of the API's QuestionnaireSpecSerializer, plus a headline that is a
    scale question."""
    errors = _Errors()
    questions = all_questions(spec)
    if not questions:
        errors.add("__all__", _("问卷至少要有一道题。"))
    codes = [q["code"] for q in questions]
    if len(set(codes)) != len(codes):
        errors.add("__all__", _("题目编码不能重复。"))
    dimension_codes = [d["code"] for d in spec["dimensions"]]
    if len(set(dimension_codes)) != len(dimension_codes):
        errors.add("__all__", _("维度编码不能重复。"))
    if sum(1 for q in questions if q["headline"]) > 1:
        errors.add("__all__", _("只能有一道总体评价题。"))
    scales = set(Scale.objects.values_list("key", flat=True))
    for question in questions:
        if (question["kind"] == Question.Kind.SCALE) != bool(question["scale"]):
            errors.add("__all__", _("量表题需要量表，其他题型不用量表。"))
        if question["kind"] == Question.Kind.SCALE and question["scale"] not in scales:
            errors.add(
                "__all__", _("未知的量表：%(key)s。") % {"key": question["scale"]}
            )
        if question["kind"] in CHOICE_KINDS and len(question["options"]) < 2:
            errors.add("__all__", _("选择题至少需要两个选项。"))
        if question["headline"] and question["kind"] != Question.Kind.SCALE:
            errors.add("__all__", _("总体评价题必须是量表题。"))
    return errors.by_field


def _question_item(
    spec: dict[str, Any], fields: QuestionFields, *, current: str | None
) -> dict[str, Any]:
    """``fields`` as a spec item, checked against the rest of ``spec``;
    ``current`` is the code of the question being edited (None: a new one)."""
    errors = _Errors()
    taken = {q["code"] for q in all_questions(spec)} - {current}
    text = fields.text.strip()
    if not text:
        errors.add("text", _("请填写题目。"))
    elif len(text) > 300:
        errors.add("text", _("题目最多 300 个字。"))
    help_text = fields.help_text.strip()
    if len(help_text) > 300:
        errors.add("help_text", _("说明最多 300 个字。"))
    code = fields.code.strip() or current or _new_code("q", taken)
    _check_code(errors, code, taken, _("编码“%(code)s”已被另一道题使用。"))
    if fields.kind not in Question.Kind.values:
        errors.add("kind", _("请选择题型。"))
    scale = None
    if fields.kind == Question.Kind.SCALE:
        scale = fields.scale or None
        if scale is None:
            errors.add("scale", _("量表题需要选择一个量表。"))
        elif not Scale.objects.filter(key=scale).exists():
            errors.add("scale", _("未知的量表：%(key)s。") % {"key": scale})
    options = [label.strip() for label in fields.options if label.strip()]
    if fields.kind in CHOICE_KINDS:
        if len(options) < 2:
            errors.add("options", _("选择题至少需要两个选项，每行一个。"))
        for label in options:
            if len(label) > 200:
                errors.add("options", _("每个选项最多 200 个字。"))
                break
        repeated = sorted({label for label in options if options.count(label) > 1})
        if repeated:
            errors.add(
                "options",
                _("选项不能重复：%(labels)s。") % {"labels": "、".join(repeated)},
            )
    elif options:
        errors.add("options", _("只有单选题和多选题有选项；请清空选项或改选题型。"))
    if fields.headline and fields.kind != Question.Kind.SCALE:
        errors.add("headline", _("总体评价题必须是量表题。"))
    if fields.dimension and fields.dimension not in {
        d["code"] for d in spec["dimensions"]
    }:
        errors.add("dimension", _("没有这个维度。"))
    errors.raise_any()
    return {
        "code": code,
        "kind": fields.kind,
        "text": text,
        "help_text": help_text,
        "required": fields.required,
        "headline": fields.headline,
        "scale": scale,
        "options": options,
    }


def _place(spec: dict[str, Any], item: dict[str, Any], dimension: str) -> None:
    """Append ``item`` to its dimension's questions (or those outside any), and
    make it the only headline when it is one."""
    if item["headline"]:
        for question in all_questions(spec):
            question["headline"] = False
    group = _dimension(spec, dimension)["questions"] if dimension else spec["questions"]
    group.append(item)


def _move(items: list[Any], index: int, direction: str) -> None:
    target = index - 1 if direction == UP else index + 1
    if direction not in (UP, DOWN):
        raise DraftInvalid({"__all__": [_("未知的移动方向。")]})
    if not 0 <= target < len(items):
        message = _("已经在最前面。") if direction == UP else _("已经在最后面。")
        raise DraftInvalid({"__all__": [message]})
    items[index], items[target] = items[target], items[index]


# --- Writing a draft ------------------------------------------------------------


def _edit(
    draft: Questionnaire, change: Callable[[dict[str, Any]], None]
) -> Questionnaire:
    """Lock ``draft``, apply ``change`` to its spec, check the result and write it
    back; nothing is written when ``change`` or the check refuses."""
    if draft.is_published:
        raise DraftFrozen()
    with transaction.atomic():
        locked = (
            Questionnaire.objects.select_for_update()
            .filter(key=draft.key, version=draft.version)
            .first()
        )
        if locked is None:
            # Another edit renewed the draft's rows while this one waited.
            raise StateError(_("问卷刚被修改过，请刷新页面后再试。"), code="changed")
        if locked.is_published:
            raise DraftFrozen()
        spec = questionnaire_spec(locked)
        change(spec)
        errors = spec_errors(spec)
        if errors:
            raise DraftInvalid(errors)
        created_at = locked.created_at
        replaced = questionnaire_replace_draft(questionnaire=locked, spec=spec)
        Questionnaire.objects.filter(pk=replaced.pk).update(created_at=created_at)
        replaced.created_at = created_at
    return replaced


def _settings_errors(title: str, description: str, target_kind: str) -> _Errors:
    errors = _Errors()
    if not title:
        errors.add("title", _("请填写标题。"))
    elif len(title) > 200:
        errors.add("title", _("标题最多 200 个字。"))
    if len(description) > DESCRIPTION_MAX:
        errors.add("description", _("说明最多 2000 个字。"))
    if target_kind not in EVALUATED_KINDS:
        errors.add("target_kind", _("请选择适用的单位类型。"))
    return errors


def questionnaire_copy(
    *, source: Questionnaire, key: str, title: str, target_kind: str
) -> Questionnaire:
    """A new questionnaire (version 1 of a new ``key``, a draft) with the content
    of ``source``, a template or any version, published or not."""
    key, title = key.strip(), title.strip()
    errors = _settings_errors(title, source.description, target_kind)
    if not key:
        errors.add("key", _("请填写标识。"))
    elif len(key) > 60 or not SLUG.fullmatch(key):
        errors.add(
            "key", _("标识只能用英文字母、数字、短横线和下划线，最多 60 个字符。")
        )
    elif Questionnaire.objects.filter(key=key).exists():
        errors.add("key", _("标识“%(key)s”已被其他问卷使用，请换一个。") % {"key": key})
    errors.raise_any()
    spec = {
        **questionnaire_spec(source),
        "key": key,
        "title": title,
        "target_kind": target_kind,
    }
    try:
        with transaction.atomic():
            return questionnaire_create(spec=spec)
    except IntegrityError:  # the same key, copied at the same moment
        raise DraftInvalid(
            {"key": [_("标识“%(key)s”已被其他问卷使用，请换一个。") % {"key": key}]}
        ) from None


def draft_update_settings(
    *, draft: Questionnaire, title: str, description: str, target_kind: str
) -> Questionnaire:
    title, description = title.strip(), description.strip()
    _settings_errors(title, description, target_kind).raise_any()

    def change(spec: dict[str, Any]) -> None:
        spec.update(title=title, description=description, target_kind=target_kind)

    return _edit(draft, change)


def dimension_add(*, draft: Questionnaire, title: str, code: str = "") -> Questionnaire:
    def change(spec: dict[str, Any]) -> None:
        taken = {d["code"] for d in spec["dimensions"]}
        spec["dimensions"].append(
            {**_dimension_item(title, code, taken, default=None), "questions": []}
        )

    return _edit(draft, change)


def _dimension_item(
    title: str, code: str, taken: set[str], *, default: str | None
) -> dict[str, str]:
    errors = _Errors()
    title = title.strip()
    if not title:
        errors.add("title", _("请填写维度名称。"))
    elif len(title) > 100:
        errors.add("title", _("维度名称最多 100 个字。"))
    code = code.strip() or default or _new_code("d", taken)
    _check_code(errors, code, taken, _("编码“%(code)s”已被另一个维度使用。"))
    errors.raise_any()
    return {"code": code, "title": title}


def dimension_update(
    *, draft: Questionnaire, code: str, title: str, new_code: str = ""
) -> Questionnaire:
    def change(spec: dict[str, Any]) -> None:
        dimension = _dimension(spec, code)
        taken = {d["code"] for d in spec["dimensions"]} - {code}
        dimension.update(_dimension_item(title, new_code, taken, default=code))

    return _edit(draft, change)


def dimension_move(*, draft: Questionnaire, code: str, direction: str) -> Questionnaire:
    def change(spec: dict[str, Any]) -> None:
        dimensions = spec["dimensions"]
        _move(dimensions, dimensions.index(_dimension(spec, code)), direction)

    return _edit(draft, change)


def dimension_remove(*, draft: Questionnaire, code: str) -> Questionnaire:
    """Remove an empty dimension; one with questions is refused, so no question
    is lost with it."""

    def change(spec: dict[str, Any]) -> None:
        dimension = _dimension(spec, code)
        if dimension["questions"]:
            raise DraftInvalid(
                {
                    "__all__": [
                        _(
                            "维度“%(title)s”下还有 %(n)d 道题：请先删除这些题，"
                            "或在题目中改选其他维度。"
                        )
                        % {
                            "title": dimension["title"],
                            "n": len(dimension["questions"]),
                        }
                    ]
                }
            )
        spec["dimensions"].remove(dimension)

    return _edit(draft, change)


def question_add(*, draft: Questionnaire, fields: QuestionFields) -> Questionnaire:
    """Add a question at the end of its dimension (or of those outside any)."""

    def change(spec: dict[str, Any]) -> None:
        item = _question_item(spec, fields, current=None)
        _place(spec, item, fields.dimension)

    return _edit(draft, change)


def question_update(
    *, draft: Questionnaire, code: str, fields: QuestionFields
) -> Questionnaire:
    """Change a question; it keeps its place unless it moves to another dimension
    (then it goes to that dimension's end)."""

    def change(spec: dict[str, Any]) -> None:
        group = _group_of(spec, code)
        index = next(i for i, q in enumerate(group) if q["code"] == code)
        item = _question_item(spec, fields, current=code)
        staying = group is (
            _dimension(spec, fields.dimension)["questions"]
            if fields.dimension
            else spec["questions"]
        )
        if item["headline"]:
            for question in all_questions(spec):
                question["headline"] = False
        if staying:
            group[index] = item
        else:
            del group[index]
            _place(spec, item, fields.dimension)

    return _edit(draft, change)


def question_move(*, draft: Questionnaire, code: str, direction: str) -> Questionnaire:
    """Move a question up or down within its dimension (or those outside any)."""

    def change(spec: dict[str, Any]) -> None:
        group = _group_of(spec, code)
        index = next(i for i, q in enumerate(group) if q["code"] == code)
        _move(group, index, direction)

    return _edit(draft, change)


def question_remove(*, draft: Questionnaire, code: str) -> Questionnaire:
    def change(spec: dict[str, Any]) -> None:
        group = _group_of(spec, code)
        if len(all_questions(spec)) == 1:
            raise DraftInvalid(
                {"__all__": [_("问卷至少要有一道题，不能删除最后一道。")]}
            )
        group[:] = [q for q in group if q["code"] != code]

    return _edit(draft, change)


def draft_publish(*, draft: Questionnaire) -> Questionnaire:
    """Publish a draft (frozen from then on, in the database too)."""
    with transaction.atomic():
        locked = (
            Questionnaire.objects.select_for_update()
            .filter(key=draft.key, version=draft.version)
            .first()
        )
        if locked is None:
            raise StateError(_("问卷刚被修改过，请刷新页面后再试。"), code="changed")
        if locked.is_published:
            raise StateError(_("该版本已发布。"), code="already_published")
        errors = spec_errors(questionnaire_spec(locked))
        if errors:
            raise DraftInvalid(errors)
        return questionnaire_publish(questionnaire=locked)


def draft_delete(*, draft: Questionnaire) -> None:
    """Discard a draft; a published version stays for good."""
    with transaction.atomic():
        locked = (
            Questionnaire.objects.select_for_update()
            .filter(key=draft.key, version=draft.version)
            .first()
        )
        if locked is None:
            return
        if locked.is_published:
            raise StateError(_("已发布的问卷不能删除。"), code="frozen")
        locked.delete()
