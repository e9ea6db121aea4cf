"""The questionnaire editor's pages (/manage/questionnaires/): the versions with
their state, copying one into a new draft, editing a draft one change at a
time, its preview, publishing it and a new version of a published one.

Everyone logged in reads (as the API's GET does); only the school's office
(``Scope.administers_all``, the API's SchoolOfficeWrites) changes anything:
the questionnaires are the whole school's. The rules are questionnaires.editor's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from organizations.access import scope_for

from . import editor
from .editor import DraftInvalid, QuestionFields, all_questions
from .editor_forms import (
    CopyForm,
    DimensionForm,
    QuestionForm,
    SettingsForm,
    show_refusal,
)
from .models import Campaign, CampaignQuestionnaire, Question, Questionnaire, Scale
from .respond import render_preview
from .services import ServiceError, StateError, questionnaire_new_version
from .services import questionnaire_spec as spec_of

GET_POST = require_http_methods(["GET", "HEAD", "POST"])


def _can_edit(request: HttpRequest) -> bool:
    return scope_for(request.user).administers_all()


def _version(key: str, version: int) -> Questionnaire:
    return get_object_or_404(Questionnaire, key=key, version=version)


def _writable(request: HttpRequest, key: str, version: int) -> Questionnaire:
    if not _can_edit(request):
        raise PermissionDenied
    return _version(key, version)


def _url(questionnaire: Questionnaire, anchor: str = "") -> str:
    url = reverse(
        "manage-questionnaire",
        args=[questionnaire.key, questionnaire.version],
    )
    return f"{url}#{anchor}" if anchor else url


def _rounds(
    request: HttpRequest, questionnaires: list[Questionnaire]
) -> dict[int, dict[str, Any]]:
    """The rounds that use each version and that the user may see, by its pk, and
    how many more (of other offices) there are."""
    visible = set(
        Campaign.objects.for_scope(scope_for(request.user)).values_list("pk", flat=True)
    )
    used: dict[int, dict[str, Any]] = {}
    choices = CampaignQuestionnaire.objects.filter(
        questionnaire__in=questionnaires
    ).select_related("campaign")
    for choice in choices.order_by("-campaign__opens_at", "campaign_id"):
        entry = used.setdefault(choice.questionnaire_id, {"shown": [], "others": 0})
        if choice.campaign_id in visible:
            if choice.campaign not in entry["shown"]:
                entry["shown"].append(choice.campaign)
        else:
            entry["others"] += 1
    return used


@login_required
@require_safe
def questionnaire_list(request: HttpRequest) -> HttpResponse:
    versions = list(Questionnaire.objects.order_by("key", "-version"))
    rounds = _rounds(request, versions)
    groups: list[dict[str, Any]] = []
    for questionnaire in versions:
        if not groups or groups[-1]["key"] != questionnaire.key:
            groups.append({"key": questionnaire.key, "versions": []})
        groups[-1]["versions"].append(
            {"q": questionnaire, "rounds": rounds.get(questionnaire.pk)}
        )
    for group in groups:
        group["has_draft"] = any(not v["q"].is_published for v in group["versions"])
    context = {"groups": groups, "can_edit": _can_edit(request)}
    return render(request, "questionnaires/editor/list.html", context)


def _detail(
    request: HttpRequest,
    questionnaire: Questionnaire,
    *,
    settings_form: SettingsForm | None = None,
    dimension_forms: dict[str, DimensionForm] | None = None,
    new_dimension_form: DimensionForm | None = None,
    refusal: str = "",
    refusal_at: str = "",
    status: int = 200,
) -> HttpResponse:
    """A version's page; a draft's with its editing forms for the school's office."""
    spec = spec_of(questionnaire)
    can_edit = _can_edit(request) and not questionnaire.is_published
    scales = dict(Scale.objects.values_list("key", "name"))
    kinds = dict(Question.Kind.choices)
    groups = [(d, d["questions"]) for d in spec["dimensions"]]
    groups.append((None, spec["questions"]))
    sections, number = [], 0
    for dimension, questions in groups:
        rows = []
        for index, item in enumerate(questions):
            number += 1
            rows.append(
                {
                    "item": item,
                    "number": number,
                    "kind": kinds.get(item["kind"], item["kind"]),
                    "scale": scales.get(item["scale"], "") if item["scale"] else "",
                    "first": index == 0,
                    "last": index == len(questions) - 1,
                }
            )
        section: dict[str, Any] = {"dimension": dimension, "rows": rows}
        if dimension is not None:
            section["first"] = dimension is spec["dimensions"][0]
            section["last"] = dimension is spec["dimensions"][-1]
        if dimension is not None and can_edit:
            code = dimension["code"]
            section["form"] = (dimension_forms or {}).get(code) or DimensionForm(
                initial=dimension, prefix_code=code
            )
        sections.append(section)
    siblings = Questionnaire.objects.filter(key=questionnaire.key).order_by("version")
    context = {
        "q": questionnaire,
        "spec": spec,
        "sections": sections,
        "dimension_count": len(spec["dimensions"]),
        "question_count": number,
        "can_edit": can_edit,
        "can_copy": _can_edit(request),
        "siblings": siblings,
        "draft": siblings.filter(published_at__isnull=True).first(),
        "rounds": _rounds(request, [questionnaire]).get(questionnaire.pk),
        "settings_form": settings_form
        or SettingsForm(
            initial={
                "title": questionnaire.title,
                "description": questionnaire.description,
                "target_kind": questionnaire.target_kind,
            }
        ),
        "new_dimension_form": new_dimension_form or DimensionForm(prefix_code="new"),
        "refusal": refusal,
        "refusal_at": refusal_at,
        "frozen_message": editor.frozen_message(),
    }
    return render(request, "questionnaires/editor/detail.html", context, status=status)


@login_required
@require_safe
def questionnaire_detail(request: HttpRequest, key: str, version: int) -> HttpResponse:
    return _detail(request, _version(key, version))


@login_required
@require_safe
def questionnaire_preview(request: HttpRequest, key: str, version: int) -> HttpResponse:
    """The respondent page as a respondent would see it, marked 预览; its button
    is disabled and its form posts nowhere (questionnaires.respond)."""
    return render_preview(request, _version(key, version), None, None)


def _refused(
    request: HttpRequest, questionnaire: Questionnaire, exc: ServiceError, at: str = ""
) -> HttpResponse:
    status = 400 if isinstance(exc, DraftInvalid) else 409
    # A concurrent edit may have renewed the draft's rows: show them as they are.
    questionnaire = (
        Questionnaire.objects.filter(
            key=questionnaire.key, version=questionnaire.version
        ).first()
        or questionnaire
    )
    return _detail(
        request, questionnaire, refusal=exc.message, refusal_at=at, status=status
    )


def _apply(
    request: HttpRequest,
    draft: Questionnaire,
    change: Callable[[], Questionnaire],
    done: str,
    anchor: str = "",
) -> HttpResponse:
    """Run one edit of the draft page's small forms; back to the page, or the page
    with the refusal."""
    try:
        edited = change()
    except ServiceError as exc:
        return _refused(request, draft, exc, anchor)
    messages.success(request, done)
    return redirect(_url(edited, anchor))


def _post_edit(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """An edit posted by a form of the draft's page: the school's office only; a
    GET goes back to the page."""

    @login_required
    @GET_POST
    def wrapped(
        request: HttpRequest, key: str, version: int, **kwargs: Any
    ) -> HttpResponse:
        draft = _writable(request, key, version)
        if request.method != "POST":
            return redirect(_url(draft))
        return view(request, draft, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@_post_edit
def draft_settings(request: HttpRequest, draft: Questionnaire) -> HttpResponse:
    form = SettingsForm(request.POST)
    if form.is_valid():
        try:
            edited = editor.draft_update_settings(draft=draft, **form.cleaned_data)
        except DraftInvalid as exc:
            show_refusal(form, exc)
        except ServiceError as exc:
            return _refused(request, draft, exc)
        else:
            messages.success(request, _("已保存标题和说明。"))
            return redirect(_url(edited))
    return _detail(request, draft, settings_form=form, status=400)


@_post_edit
def dimension_add(request: HttpRequest, draft: Questionnaire) -> HttpResponse:
    form = DimensionForm(request.POST, prefix_code="new")
    if form.is_valid():
        try:
            edited = editor.dimension_add(draft=draft, **form.cleaned_data)
        except DraftInvalid as exc:
            show_refusal(form, exc)
        except ServiceError as exc:
            return _refused(request, draft, exc)
        else:
            messages.success(request, _("已添加维度。"))
            return redirect(_url(edited, "dimensions"))
    return _detail(request, draft, new_dimension_form=form, status=400)


@_post_edit
def dimension_edit(
    request: HttpRequest, draft: Questionnaire, code: str
) -> HttpResponse:
    form = DimensionForm(request.POST, prefix_code=code)
    if form.is_valid():
        try:
            edited = editor.dimension_update(
                draft=draft,
                code=code,
                title=form.cleaned_data["title"],
                new_code=form.cleaned_data["code"],
            )
        except DraftInvalid as exc:
            show_refusal(form, exc)
        except ServiceError as exc:
            return _refused(request, draft, exc)
        else:
            messages.success(request, _("已保存维度。"))
            return redirect(_url(edited, "dimensions"))
    return _detail(request, draft, dimension_forms={code: form}, status=400)


@_post_edit
def dimension_move(
    request: HttpRequest, draft: Questionnaire, code: str
) -> HttpResponse:
    direction = request.POST.get("direction", "")
    return _apply(
        request,
        draft,
        lambda: editor.dimension_move(draft=draft, code=code, direction=direction),
        _("已调整维度顺序。"),
        f"dimension-{code}",
    )


@_post_edit
def dimension_remove(
    request: HttpRequest, draft: Questionnaire, code: str
) -> HttpResponse:
    return _apply(
        request,
        draft,
        lambda: editor.dimension_remove(draft=draft, code=code),
        _("已删除维度。"),
        f"dimension-{code}",
    )


@_post_edit
def question_move(
    request: HttpRequest, draft: Questionnaire, code: str
) -> HttpResponse:
    direction = request.POST.get("direction", "")
    return _apply(
        request,
        draft,
        lambda: editor.question_move(draft=draft, code=code, direction=direction),
        _("已调整题目顺序。"),
        f"question-{code}",
    )


@_post_edit
def question_remove(
    request: HttpRequest, draft: Questionnaire, code: str
) -> HttpResponse:
    return _apply(
        request,
        draft,
        lambda: editor.question_remove(draft=draft, code=code),
        _("已删除题目。"),
        f"question-{code}",
    )


def _question_page(
    request: HttpRequest,
    questionnaire: Questionnaire,
    form: QuestionForm | None,
    *,
    code: str = "",
    refusal: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {"q": questionnaire, "form": form, "code": code, "refusal": refusal}
    return render(
        request, "questionnaires/editor/question.html", context, status=status
    )


def _save_question(
    request: HttpRequest,
    draft: Questionnaire,
    form: QuestionForm,
    save: Callable[[QuestionFields], Questionnaire],
    code: str,
) -> HttpResponse:
    if form.is_valid():
        fields = form.fields_value()
        try:
            edited = save(fields)
        except DraftInvalid as exc:
            show_refusal(form, exc)
        except ServiceError as exc:
            return _question_page(
                request, draft, None, code=code, refusal=exc.message, status=409
            )
        else:
            message = _("已保存题目。")
            if fields.headline:
                message += _("总体评价题现在是“%(text)s”。") % {"text": fields.text}
            messages.success(request, message)
            question_code = fields.code or code
            anchor = f"question-{question_code}" if question_code else "questions"
            return redirect(_url(edited, anchor))
    return _question_page(request, draft, form, code=code, status=400)


@login_required
@GET_POST
def question_add(request: HttpRequest, key: str, version: int) -> HttpResponse:
    draft = _writable(request, key, version)
    if draft.is_published:
        status = 409 if request.method == "POST" else 200
        return _question_page(
            request, draft, None, refusal=editor.frozen_message(), status=status
        )
    spec = spec_of(draft)
    if request.method != "POST":
        initial = {
            "kind": Question.Kind.SCALE,
            "scale": "three_dk",
            "dimension": request.GET.get("dimension", ""),
        }
        return _question_page(request, draft, QuestionForm(spec=spec, initial=initial))
    form = QuestionForm(request.POST, spec=spec)
    return _save_question(
        request,
        draft,
        form,
        lambda fields: editor.question_add(draft=draft, fields=fields),
        "",
    )


@login_required
@GET_POST
def question_edit(
    request: HttpRequest, key: str, version: int, code: str
) -> HttpResponse:
    draft = _writable(request, key, version)
    if draft.is_published:
        status = 409 if request.method == "POST" else 200
        return _question_page(
            request,
            draft,
            None,
            code=code,
            refusal=editor.frozen_message(),
            status=status,
        )
    spec = spec_of(draft)
    if not any(q["code"] == code for q in all_questions(spec)):
        return redirect(_url(draft, "questions"))
    if request.method != "POST":
        form = QuestionForm(spec=spec, initial=QuestionForm.initial_of(spec, code))
        return _question_page(request, draft, form, code=code)
    form = QuestionForm(request.POST, spec=spec)
    return _save_question(
        request,
        draft,
        form,
        lambda fields: editor.question_update(draft=draft, code=code, fields=fields),
        code,
    )


def _confirm_page(
    request: HttpRequest, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    return render(request, "questionnaires/editor/confirm.html", context, status=status)


@login_required
@GET_POST
def draft_publish(request: HttpRequest, key: str, version: int) -> HttpResponse:
    draft = _writable(request, key, version)
    context: dict[str, Any] = {"q": draft, "action": "publish"}
    if draft.is_published:
        context["refusal"] = _("该版本已发布。")
        return _confirm_page(request, context, 409 if request.method == "POST" else 200)
    problems = [m for ms in editor.spec_errors(spec_of(draft)).values() for m in ms]
    if request.method != "POST":
        return _confirm_page(request, {**context, "problems": problems})
    try:
        published = editor.draft_publish(draft=draft)
    except ServiceError as exc:
        status = 400 if isinstance(exc, DraftInvalid) else 409
        return _confirm_page(request, {**context, "refusal": exc.message}, status)
    messages.success(
        request, _("已发布。新建评议轮次时可以选择这一版本；它不能再修改。")
    )
    return redirect(_url(published))


@login_required
@GET_POST
def new_version(request: HttpRequest, key: str, version: int) -> HttpResponse:
    source = _writable(request, key, version)
    draft = Questionnaire.objects.drafts().filter(key=source.key).first()
    context: dict[str, Any] = {"q": source, "action": "new_version", "draft": draft}
    refusal = ""
    if not source.is_published:
        refusal = _("草稿可以直接修改，无需新建版本。")
    elif draft is not None:
        refusal = _("该问卷已有一个未发布的草稿版本（第 %(v)d 版），请直接修改它。") % {
            "v": draft.version
        }
    if refusal:
        context["refusal"] = refusal
        return _confirm_page(request, context, 409 if request.method == "POST" else 200)
    if request.method != "POST":
        return _confirm_page(request, context)
    try:
        created = questionnaire_new_version(questionnaire=source)
    except StateError as exc:
        return _confirm_page(request, {**context, "refusal": exc.message}, 409)
    messages.success(
        request,
        _("已新建第 %(v)d 版（草稿），内容与第 %(from)d 版相同，请在下面修改。")
        % {"v": created.version, "from": source.version},
    )
    return redirect(_url(created))


@login_required
@GET_POST
def draft_delete(request: HttpRequest, key: str, version: int) -> HttpResponse:
    draft = _writable(request, key, version)
    context: dict[str, Any] = {"q": draft, "action": "delete"}
    if draft.is_published:
        context["refusal"] = _("已发布的问卷不能删除。")
        return _confirm_page(request, context, 409 if request.method == "POST" else 200)
    if request.method != "POST":
        return _confirm_page(request, context)
    try:
        editor.draft_delete(draft=draft)
    except StateError as exc:
        return _confirm_page(request, {**context, "refusal": exc.message}, 409)
    messages.success(request, _("已删除草稿“%(t)s”。") % {"t": draft.title})
    return redirect("manage-questionnaires")


def _copy_initial(source: Questionnaire) -> dict[str, str]:
    taken = set(Questionnaire.objects.values_list("key", flat=True))
    base = f"{source.key[:50]}-copy"
    key, number = base, 2
    while key in taken:
        key, number = f"{base}-{number}", number + 1
    return {
        "title": _("%(title)s（副本）") % {"title": source.title},
        "key": key,
        "target_kind": source.target_kind,
    }


@login_required
@GET_POST
def questionnaire_copy(request: HttpRequest, key: str, version: int) -> HttpResponse:
    source = _writable(request, key, version)
    data = request.POST if request.method == "POST" else None
    form = CopyForm(data, initial=_copy_initial(source))
    if request.method == "POST" and form.is_valid():
        try:
            created = editor.questionnaire_copy(source=source, **form.cleaned_data)
        except DraftInvalid as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, _("已复制为新的草稿问卷，请在下面修改后发布。"))
            return redirect(_url(created))
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "questionnaires/editor/copy.html",
        {"q": source, "form": form},
        status=status,
    )
