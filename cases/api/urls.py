from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from cases.api import report_views
from cases.api.views import CaseViewSet, ContactViewSet, MessageViewSet

router = DefaultRouter()
router.register("cases", CaseViewSet, basename="case")
router.register("messages", MessageViewSet, basename="message")
router.register("contacts", ContactViewSet, basename="contact")

urlpatterns = [
    path("api/v1/auth/token/", obtain_auth_token, name="api-token"),
    path("api/v1/reports/sla.csv", report_views.SlaReportCsvView.as_view(), name="report-sla-csv"),
    path("api/v1/reports/sla/", report_views.SlaReportView.as_view(), name="report-sla"),
    path("api/v1/reports/cases.csv", report_views.CasesCsvView.as_view(), name="report-cases-csv"),
    path("", include("cases.api.health_views")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include(router.urls)),
]
