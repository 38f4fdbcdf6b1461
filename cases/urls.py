from django.urls import include, path

from cases import report_views, survey_views, views

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("reports/", report_views.reports, name="reports"),
    path("", include("cases.health_views")),
    path("survey/<str:token>/", survey_views.survey, name="survey"),
    path("", include("cases.api.urls")),
]
