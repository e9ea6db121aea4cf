from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from analysis.access import latest_run
from analysis.services import campaign_analyze
from organizations.access import scope_for
from questionnaires.models import Campaign
from questionnaires.services import StateError

from .evidence import evidence_visible_to
from .models import Evidence, Task
from .resurvey import tasks_resurvey


@login_required
@require_safe
def evidence_download(request: HttpRequest, evidence_id: int) -> FileResponse:
    """The file, as an attachment of its checked type, to those who may see the task;
    404 to everyone else, so that ids reveal nothing."""
    evidence = get_object_or_404(
        Evidence.objects.select_related("task"), pk=evidence_id
    )
    if not evidence_visible_to(evidence=evidence, user=request.user):
        raise Http404
    response = FileResponse(
        evidence.file.open("rb"),
        as_attachment=True,
        filename=evidence.download_name(),
        content_type=evidence.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def results_analyze(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """The office recomputes the round's results now; tasks awaiting this
    re-survey get their verdicts in the same step. GET asks first: on a published
    round the new figures replace what every unit already reads."""
    campaign = get_object_or_404(
        Campaign.objects.for_scope(scope_for(request.user)), pk=campaign_id
    )
    if not scope_for(request.user).can_administer(campaign.organizer_id):
        raise PermissionDenied
    if request.method != "POST":
        return render(
            request,
            "analysis/analyze_confirm.html",
            {
                "campaign": campaign,
                "run": latest_run(campaign),
                "refusal": _analyze_refusal(campaign),
                "awaiting": _awaiting_resurvey(campaign),
            },
        )
    try:
        run = campaign_analyze(campaign=campaign)
    except StateError as refused:
        messages.error(request, refused.message)
    else:
        verdicts = tasks_resurvey(run=run)
        messages.success(
            request,
            _("统计完成：%(n)d 份答卷；%(t)d 项整改任务得到回访测评结论。")
            % {"n": run.n_responses, "t": len(verdicts)},
        )
    return redirect("analysis-results", campaign_id=campaign.pk)


def _awaiting_resurvey(campaign: Campaign) -> int:
    """Tasks of the baseline round that this round's statistics give a verdict."""
    if campaign.baseline_id is None:
        return 0
    return Task.objects.filter(
        state=Task.State.AWAITING_RESURVEY, finding__campaign_id=campaign.baseline_id
    ).count()


def _analyze_refusal(campaign: Campaign) -> str:
    if campaign.status in (Campaign.Status.CLOSED, Campaign.Status.PUBLISHED):
        return ""
    return _("评议结束后才能统计：进行中的轮次反复统计，可以推断出单份答卷。")
