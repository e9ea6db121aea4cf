"""The forms of the rectification pages: what each page reads from a POST."""

from __future__ import annotations

from datetime import date

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy

from analysis.models import Finding

from .models import Task


class ActionForm(forms.Form):
    responsible_person = forms.CharField(
        label=gettext_lazy("责任人"), max_length=100, required=False
    )
    responsible_email = forms.EmailField(
        label=gettext_lazy("责任人邮箱"), required=False
    )
    responsible_leader = forms.CharField(
        label=gettext_lazy("责任领导"), max_length=100, required=False
    )
    due_date = forms.DateField(label=gettext_lazy("完成时限"), required=False)
    task_type = forms.ChoiceField(
        label=gettext_lazy("整改类型"), choices=Task.Type.choices, required=False
    )
    cause_analysis = forms.CharField(label=gettext_lazy("原因分析"), required=False)
    goal = forms.CharField(label=gettext_lazy("整改目标"), required=False)
    measures = forms.CharField(label=gettext_lazy("整改措施"), required=False)
    comment = forms.CharField(
        label=gettext_lazy("理由或说明"), max_length=5000, required=False
    )


class ProgressForm(forms.Form):
    text = forms.CharField(label=gettext_lazy("进展情况"), max_length=5000)


class EvidenceForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("佐证材料"))


class ExtensionForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("延期理由"), max_length=5000)
    new_due_date = forms.DateField(label=gettext_lazy("申请延至"))


class DecideForm(forms.Form):
    approve = forms.BooleanField(required=False)
    comment = forms.CharField(max_length=5000, required=False)


class FindingDecisionForm(forms.Form):
    confirm = forms.BooleanField(required=False)
    comment = forms.CharField(max_length=2000, required=False)
    verification = forms.ChoiceField(
        choices=[("", "—"), *Finding.Verification.choices], required=False
    )


def _required(message: str) -> dict[str, str]:
    return {"required": message}


class FindingTaskForm(forms.Form):
    """A task from a finding, with what the office decides when it hands it over:
    the requirements (the lead unit writes the measures in its plan, starting
    from these), the responsible person and the due date."""

    title = forms.CharField(
        label=gettext_lazy("整改事项"),
        max_length=200,
        error_messages=_required(gettext_lazy("请填写整改事项。")),
    )
    requirements = forms.CharField(
        label=gettext_lazy("整改要求和初步措施"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages=_required(gettext_lazy("请填写整改要求和初步措施。")),
    )
    task_type = forms.ChoiceField(
        label=gettext_lazy("整改类型"),
        choices=Task.Type.choices,
        initial=Task.Type.DEADLINE,
    )
    responsible_person = forms.CharField(
        label=gettext_lazy("责任人"),
        max_length=100,
        error_messages=_required(gettext_lazy("请填写责任人。")),
    )
    responsible_email = forms.EmailField(
        label=gettext_lazy("责任人邮箱"),
        required=False,
        error_messages={"invalid": gettext_lazy("请填写有效的邮箱地址。")},
    )
    responsible_leader = forms.CharField(
        label=gettext_lazy("责任领导"), max_length=100, required=False
    )
    due_date = forms.DateField(
        label=gettext_lazy("完成时限"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": gettext_lazy("请填写完成时限。"),
            "invalid": gettext_lazy("请按“年-月-日”填写日期。"),
        },
    )

    def clean_due_date(self) -> date:
        due = self.cleaned_data["due_date"]
        if due < timezone.localdate():
            raise forms.ValidationError(gettext_lazy("完成时限不能早于今天。"))
        return due
