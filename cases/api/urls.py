from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from cases.api.views import CaseViewSet, ContactViewSet, MessageViewSet

router = DefaultRouter()
router.register("cases", CaseViewSet, basename="case")
router.register("messages", MessageViewSet, basename="message")
router.register("contacts", ContactViewSet, basename="contact")

urlpatterns = [
    path("api/v1/auth/token/", obtain_auth_token, name="api-token"),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include(router.urls)),
]
