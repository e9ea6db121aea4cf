from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import DefaultRouter

from analysis.api import (
    FindingViewSet,
    ResultExportView,
    ResultListView,
    ThemeListView,
)
from organizations.api import UnitViewSet
from questionnaires import respond
from questionnaires.api import (
    CampaignViewSet,
    CommitmentViewSet,
    PointViewSet,
    QuestionnaireViewSet,
    ScaleViewSet,
)
from questionnaires.public_api import PublicPointView
from rectification import public
from rectification.api import AnalyzeView, TaskViewSet

from . import cas, views, workbench

router = DefaultRouter()
router.register("units", UnitViewSet, basename="unit")
router.register("scales", ScaleViewSet, basename="scale")
router.register("questionnaires", QuestionnaireViewSet, basename="questionnaire")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("commitments", CommitmentViewSet, basename="commitment")
router.register("findings", FindingViewSet, basename="finding")
router.register("tasks", TaskViewSet, basename="task")

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("s/<str:token>/", respond.point_form, name="respond-point"),
    path("s/<str:token>/done/", respond.done, name="respond-done"),
    path("b/", respond.ballot_form, name="respond-ballot"),
    # Slips printed before the code moved into the fragment (/b/#<code>).
    path("b/<str:code>/", respond.ballot_slip, name="respond-ballot-slip"),
    path("public/campaigns/<int:campaign_id>/", public.board, name="public-board"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("manage/", workbench.home, name="manage-home"),
    path("manage/", include("organizations.urls")),
    path("manage/", include("questionnaires.urls")),
    path("manage/", include("analysis.urls")),
    path("manage/", include("rectification.urls")),
    path("admin/", admin.site.urls),
    path(
        "api/v1/public/points/<str:token>/",
        PublicPointView.as_view(),
        name="public-point",
    ),
    path(
        "api/v1/campaigns/<int:campaign_pk>/points/",
        PointViewSet.as_view({"get": "list"}),
        name="campaign-points",
    ),
    path(
        "api/v1/campaigns/<int:campaign_pk>/points/<int:pk>/",
        PointViewSet.as_view({"get": "retrieve"}),
        name="campaign-point",
    ),
    path(
        "api/v1/campaigns/<int:campaign_pk>/results/",
        ResultListView.as_view(),
        name="campaign-results",
    ),
    path(
        "api/v1/campaigns/<int:campaign_pk>/results/export/",
        ResultExportView.as_view(),
        name="campaign-results-export",
    ),
    path(
        "api/v1/campaigns/<int:campaign_pk>/themes/",
        ThemeListView.as_view(),
        name="campaign-themes",
    ),
    path(
        "api/v1/campaigns/<int:campaign_pk>/analyze/",
        AnalyzeView.as_view(),
        name="campaign-analyze",
    ),
    path("api/v1/", include(router.urls)),
    # The schema names every endpoint and field: for logged-in users only. An API
    # client gets 401; a browser opening the docs is sent to the login page.
    path(
        "api/schema/",
        SpectacularAPIView.as_view(permission_classes=[IsAuthenticated]),
        name="schema",
    ),
    path(
        "api/docs/",
        # The split view serves its start-up script as a file: no inline script.
        csp_update(views.API_DOCS_CSP)(
            login_required(
                SpectacularSwaggerSplitView.as_view(
                    url_name="schema", permission_classes=[IsAuthenticated]
                )
            )
        ),
        name="api-docs",
    ),
]

# Campus single sign-on, only where CAS_SERVER_URL is set (survey_service/cas.py).
if settings.CAS_SERVER_URL:
    urlpatterns += cas.urlpatterns

handler404 = "survey_service.views.not_found"
