from django.urls import include, path

from cases import views

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("", include("cases.api.urls")),
]
