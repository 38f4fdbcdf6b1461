"""Webhook views: find the account, verify, store the body, hand it over, answer.

Nothing slow happens here: the body is stored before any processing, so an accepted
message is never lost, and processing runs after commit (inline or in a worker).
"""

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from inbox.connectors import get_connector
from inbox.connectors.base import PayloadError
from inbox.handoff import hand_over
from inbox.models import Account, Delivery, DeliveryStatus

log = logging.getLogger(__name__)


def _error(status: int, message: str, **extra) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook(request: HttpRequest, platform: str, slug: str) -> HttpResponse:
    account = Account.objects.filter(platform=platform, slug=slug, is_active=True).first()
    if account is None:
        return _error(404, "unknown account")
    connector = get_connector(platform)
    if request.method == "GET":
        return connector.verify_handshake(request, account)

    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit() or int(declared) > settings.CAREMGR_MAX_WEBHOOK_BYTES:
        return _error(413, "body too large", limit=settings.CAREMGR_MAX_WEBHOOK_BYTES)
    try:
        body = request.body
    except RequestDataTooBig:
        return _error(413, "body too large", limit=settings.CAREMGR_MAX_WEBHOOK_BYTES)
    if len(body) > settings.CAREMGR_MAX_WEBHOOK_BYTES:
        return _error(413, "body too large", limit=settings.CAREMGR_MAX_WEBHOOK_BYTES)

    if not connector.verify_signature(account, body, request.headers):
        log.warning("webhook %s/%s: bad or missing signature", platform, slug)
        return _error(403, "bad or missing signature")

    content_type = request.content_type or ""
    try:
        connector.parse(account, body)
    except PayloadError as exc:
        delivery = Delivery.objects.create(
            account=account,
            body=body,
            content_type=content_type[:200],
            status=DeliveryStatus.FAILED,
            error=str(exc),
            attempts=1,
        )
        return _error(400, str(exc), delivery=delivery.pk)

    with transaction.atomic():
        delivery = Delivery.objects.create(
            account=account, body=body, content_type=content_type[:200]
        )
        hand_over(delivery.pk)
    return JsonResponse({"status": "stored", "delivery": delivery.pk})
