"""A questionnaire version as plain frozen data, and validation of answers against it.

Published versions never change (the database refuses it), so their spec is cached
in the process for good: the respondent page and every submission read it without
a query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.utils.translation import gettext as _

from .models import Question, Questionnaire

NONCE_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")
# What a text answer may not hold: the control characters but tab and the line
# breaks (C0, DEL, C1), which no one types and which the sealed pool would store
# as six-byte escapes (questionnaires.pool pads for four bytes a character), and
# the lone surrogates a JSON body can spell ("\\ud800"), which UTF-8 cannot encode.
UNSAVABLE_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


@dataclass(frozen=True)
class LevelSpec:
    id: int
    code: str
    label: str
    polarity: str


@dataclass(frozen=True)
class OptionSpec:
    id: int
    label: str


@dataclass(frozen=True)
class QuestionSpec:
    id: int
    code: str
    kind: str
    text: str
    help_text: str
    required: bool
    headline: bool
    dimension: str
    levels: tuple[LevelSpec, ...] = ()
    options: tuple[OptionSpec, ...] = ()


@dataclass(frozen=True)
class FormSpec:
    questionnaire_id: int
    key: str
    version: int
    title: str
    description: str
    questions: tuple[QuestionSpec, ...]

    @property
    def by_id(self) -> dict[int, QuestionSpec]:
        return {question.id: question for question in self.questions}


def _build(questionnaire_id: int) -> FormSpec:
    questionnaire = Questionnaire.objects.get(pk=questionnaire_id)
    questions = (
        Question.objects.filter(questionnaire_id=questionnaire_id)
        .select_related("dimension", "scale")
        .prefetch_related("options", "scale__levels")
        .order_by("order", "id")
    )
    specs = []
    for question in questions:
        levels = (
            tuple(
                LevelSpec(level.id, level.code, level.label, level.polarity)
                for level in question.scale.levels.all()
            )
            if question.scale
            else ()
        )
        options = tuple(
            OptionSpec(option.id, option.label) for option in question.options.all()
        )
        specs.append(
            QuestionSpec(
                id=question.id,
                code=question.code,
                kind=question.kind,
                text=question.text,
                help_text=question.help_text,
                required=question.required,
                headline=question.headline,
                dimension=question.dimension.title if question.dimension else "",
                levels=levels,
                options=options,
            )
        )
    return FormSpec(
        questionnaire_id=questionnaire.id,
        key=questionnaire.key,
        version=questionnaire.version,
        title=questionnaire.title,
        description=questionnaire.description,
        questions=tuple(specs),
    )


@lru_cache(maxsize=512)
def _published_spec(questionnaire_id: int) -> FormSpec:
    return _build(questionnaire_id)


def form_spec(questionnaire: Questionnaire) -> FormSpec:
    if questionnaire.is_published:
        return _published_spec(questionnaire.pk)
    return _build(questionnaire.pk)


@dataclass(frozen=True)
class CleanAnswer:
    question_id: int
    level_id: int | None = None
    option_ids: tuple[int, ...] = ()
    text: str = ""


@dataclass
class AnswerErrors:
    """Errors keyed by path (``answers.2.level``) plus the question each concerns."""

    by_path: dict[str, list[str]] = field(default_factory=dict)
    by_question: dict[int, list[str]] = field(default_factory=dict)

    def add(self, path: str, message: str, question_id: int | None = None) -> None:
        self.by_path.setdefault(path, []).append(message)
        if question_id is not None:
            self.by_question.setdefault(question_id, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.by_path)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_answers(
    spec: FormSpec, raw: Any
) -> tuple[list[CleanAnswer], AnswerErrors]:
    """Check answers in the API's shape against a questionnaire version.

    ``raw`` is ``[{"question": id, "level": code} | {"question": id, "options": [id]}
    | {"question": id, "text": str}, …]``. Blank answers are abstentions.
    """
    errors = AnswerErrors()
    clean: list[CleanAnswer] = []
    if not isinstance(raw, list):
        errors.add("answers", _("answers 必须是列表。"))
        return clean, errors
    questions = spec.by_id
    seen: set[int] = set()
    for index, item in enumerate(raw):
        path = f"answers.{index}"
        if not isinstance(item, dict):
            errors.add(path, _("每个答案必须是对象。"))
            continue
        unknown_keys = set(item) - {"question", "level", "options", "text"}
        if unknown_keys:
            errors.add(
                path,
                _("未知字段：%(keys)s。") % {"keys": ", ".join(sorted(unknown_keys))},
            )
        question_id = item.get("question")
        if not _is_int(question_id):
            errors.add(f"{path}.question", _("question 必须是题目编号（整数）。"))
            continue
        question = questions.get(question_id)
        if question is None:
            errors.add(f"{path}.question", _("本问卷中没有这道题。"))
            continue
        if question_id in seen:
            errors.add(f"{path}.question", _("同一道题只能回答一次。"), question_id)
            continue
        seen.add(question_id)
        answer = _clean_one(question, item, path, errors)
        if answer is not None:
            clean.append(answer)
    answered = {answer.question_id for answer in clean}
    for question in spec.questions:
        if (
            question.required
            and question.id not in answered
            and question.id not in errors.by_question
        ):
            errors.add(f"questions.{question.id}", _("此题为必答题。"), question.id)
    return clean, errors


def _clean_one(
    question: QuestionSpec, item: dict[str, Any], path: str, errors: AnswerErrors
) -> CleanAnswer | None:
    qid = question.id
    allowed = {
        "scale": "level",
        "single": "options",
        "multiple": "options",
        "text": "text",
    }[question.kind]
    for key in ("level", "options", "text"):
        if key in item and key != allowed and item[key] not in (None, "", []):
            errors.add(f"{path}.{key}", _("此题型不接受 %(key)s。") % {"key": key}, qid)
            return None
    value = item.get(allowed)
    if value in (None, "", []):
        return None  # an abstention; required questions are checked afterwards
    if question.kind == Question.Kind.SCALE:
        if not isinstance(value, str):
            errors.add(f"{path}.level", _("level 必须是选项编码（字符串）。"), qid)
            return None
        level = next((level for level in question.levels if level.code == value), None)
        if level is None:
            errors.add(
                f"{path}.level",
                _("“%(code)s”不是此题的选项。") % {"code": value[:40]},
                qid,
            )
            return None
        return CleanAnswer(qid, level_id=level.id)
    if question.kind in (Question.Kind.SINGLE, Question.Kind.MULTIPLE):
        if not isinstance(value, list) or not all(_is_int(v) for v in value):
            errors.add(
                f"{path}.options", _("options 必须是选项编号（整数）的列表。"), qid
            )
            return None
        valid = {option.id for option in question.options}
        if any(v not in valid for v in value):
            errors.add(f"{path}.options", _("包含不属于此题的选项。"), qid)
            return None
        if len(set(value)) != len(value):
            errors.add(f"{path}.options", _("选项不能重复。"), qid)
            return None
        if question.kind == Question.Kind.SINGLE and len(value) > 1:
            errors.add(f"{path}.options", _("单选题只能选一项。"), qid)
            return None
        return CleanAnswer(qid, option_ids=tuple(value))
    if not isinstance(value, str):
        errors.add(f"{path}.text", _("text 必须是字符串。"), qid)
        return None
    text = value.strip()
    if len(text) > Question.TEXT_MAX_LENGTH:
        errors.add(
            f"{path}.text",
            _("最多 %(max)d 个字（现有 %(n)d 个）。")
            % {"max": Question.TEXT_MAX_LENGTH, "n": len(text)},
            qid,
        )
        return None
    unsavable = UNSAVABLE_CHARACTER.search(text)
    if unsavable:
        errors.add(
            f"{path}.text",
            _(
                "第 %(position)d 个字符（U+%(code)04X）是控制字符或无效字符，"
                "不能保存，请删除后再提交。"
            )
            % {"position": unsavable.start() + 1, "code": ord(unsavable.group())},
            qid,
        )
        return None
    return CleanAnswer(qid, text=text) if text else None
