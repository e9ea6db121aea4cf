"""The forms of the questionnaire editor's pages. They check only the shape of
what is typed; the rules are questionnaires.editor's, whose refusals
(:class:`~questionnaires.editor.DraftInvalid`) :func:`show_refusal` puts at the
fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from organizations.models import Unit

from .editor import DraftInvalid, QuestionFields, all_questions
from .models import Question, Scale
from .round_settings import EVALUATED_KINDS

KIND_CHOICES = [(kind, Unit.Kind(kind).label) for kind in EVALUATED_KINDS]
CODE_HELP = _(
    "可不填，自动生成。英文字母、数字、短横线；前后版本同一编码的题目可以对比。"
)


def show_refusal(form: forms.Form, refusal: DraftInvalid) -> None:
    for name, messages in refusal.errors.items():
        for message in messages:
            form.add_error(name if name in form.fields else None, message)


class CopyForm(forms.Form):
    title = forms.CharField(label=_("新问卷标题"), max_length=200)
    key = forms.CharField(
        label=_("新问卷标识"),
        max_length=60,
        help_text=_(
            "英文字母、数字、短横线，不能与已有问卷重复，如 wuhao-branch-2027。"
        ),
    )
    target_kind = forms.ChoiceField(label=_("适用单位类型"), choices=KIND_CHOICES)


class SettingsForm(forms.Form):
    title = forms.CharField(label=_("标题"), max_length=200)
    description = forms.CharField(
        label=_("说明"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("显示在评议页面顶部（轮次没有说明时）。"),
    )
    target_kind = forms.ChoiceField(label=_("适用单位类型"), choices=KIND_CHOICES)


class DimensionForm(forms.Form):
    title = forms.CharField(label=_("维度名称"), max_length=100)
    code = forms.CharField(
        label=_("编码"), max_length=40, required=False, help_text=CODE_HELP
    )

    def __init__(self, *args: Any, prefix_code: str = "", **kwargs: Any) -> None:
        # Each dimension's form on the page needs its own element ids.
        super().__init__(*args, auto_id=f"id_dim_{prefix_code}_%s", **kwargs)
        for name in ("title", "code"):
            self.fields[name].widget.attrs["aria-label"] = self.fields[name].label


class QuestionForm(forms.Form):
    text = forms.CharField(
        label=_("题目"), max_length=300, widget=forms.TextInput(attrs={"size": 60})
    )
    kind = forms.ChoiceField(
        label=_("题型"),
        choices=Question.Kind.choices,
        help_text=_("量表题：选一个量表；单选题、多选题：填写选项；填空题：自由作答。"),
    )
    scale = forms.ChoiceField(
        label=_("量表"),
        required=False,
        help_text=_("仅量表题使用；其他题型不必选择。"),
    )
    options = forms.CharField(
        label=_("选项"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("仅单选题、多选题使用：每行一个选项，至少两个。"),
    )
    dimension = forms.ChoiceField(label=_("所属维度"), required=False)
    required = forms.BooleanField(label=_("必答"), required=False)
    headline = forms.BooleanField(
        label=_("总体评价"),
        required=False,
        help_text=_(
            "单位的总体满意率取自此题（须为量表题）；只能有一道，勾选后其他题取消。"
        ),
    )
    help_text = forms.CharField(
        label=_("说明"),
        max_length=300,
        required=False,
        help_text=_("显示在题目下方的提示，可不填。"),
    )
    code = forms.CharField(
        label=_("编码"), max_length=40, required=False, help_text=CODE_HELP
    )

    def __init__(self, *args: Any, spec: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scale"].choices = [("", _("（不适用）"))] + [
            (scale.key, scale.name) for scale in Scale.objects.order_by("pk")
        ]
        self.fields["dimension"].choices = [("", _("（不属于任何维度，排在最后）"))] + [
            (d["code"], d["title"]) for d in spec["dimensions"]
        ]

    def fields_value(self) -> QuestionFields:
        data = self.cleaned_data
        return QuestionFields(
            text=data["text"],
            kind=data["kind"],
            scale=data["scale"] or None,
            options=tuple(data["options"].splitlines()),
            required=data["required"],
            headline=data["headline"],
            help_text=data["help_text"],
            dimension=data["dimension"],
            code=data["code"],
        )

    @staticmethod
    def initial_of(spec: dict[str, Any], code: str) -> dict[str, Any]:
        """The form's values for question ``code`` of ``spec``."""
        dimension = next(
            (
                d["code"]
                for d in spec["dimensions"]
                if any(q["code"] == code for q in d["questions"])
            ),
            "",
        )
        item = next(q for q in all_questions(spec) if q["code"] == code)
        return {
            **{name: item[name] for name in ("text", "kind", "required", "headline")},
            "help_text": item["help_text"],
            "scale": item["scale"] or "",
            "options": "\n".join(item["options"]),
            "dimension": dimension,
            "code": code,
        }
