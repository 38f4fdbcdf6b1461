from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import APIRootView, DefaultRouter

from cases.api import report_views
from cases.api.permissions import IsAgent
from cases.api.views import CaseViewSet, ContactViewSet, MessageViewSet
from security.login_limit import login_rate_limited


class ApiRoot(APIRootView):
    """The index of the API, for the roles that may use it (a login alone is not enough)."""

    permission_classes = [IsAgent]


class Router(DefaultRouter):
    """JSON is the only format, so no `.json` twin of each route (their actions took no
    `format` argument and answered 500)."""

    include_format_suffixes = False
    APIRootView = ApiRoot


router = Router()
router.register("cases", CaseViewSet, basename="case")
router.register("messages", MessageViewSet, basename="message")
router.register("contacts", ContactViewSet, basename="contact")

urlpatterns = [
    path(
        "api/v1/auth/token/", login_rate_limited(obtain_auth_token, as_json=True), name="api-token"
    ),
    path("api/v1/reports/sla.csv", report_views.SlaReportCsvView.as_view(), name="report-sla-csv"),
    path("api/v1/reports/sla/", report_views.SlaReportView.as_view(), name="report-sla"),
    path("api/v1/reports/cases.csv", report_views.CasesCsvView.as_view(), name="report-cases-csv"),
    path("", include("cases.api.health_views")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its script as a file, as the Content-Security-Policy requires.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include(router.urls)),
]
