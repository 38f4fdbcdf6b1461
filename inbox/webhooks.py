"""Webhook views: find the account, verify, store the body, hand it over, answer.

Nothing slow happens here: the body is stored before any processing, so an accepted
message is never lost, and processing runs after commit (inline or in a worker).
`accept_delivery` is the whole POST; the Django view below and the ASGI fast path
(`inbox.webhook_asgi`) both answer with it.
"""

import logging
from collections.abc import Mapping

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from inbox.account_cache import active_account
from inbox.connectors import get_connector
from inbox.connectors.base import PayloadError
from inbox.models import Delivery, DeliveryStatus
from inbox.outage import DATABASE_DOWN, database_unavailable, unavailable_while_database_is_down
from inbox.stored_together import store_delivery
from security import rate_limit

log = logging.getLogger(__name__)


def _error(status: int, message: str, **extra) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


@csrf_exempt
@require_http_methods(["GET", "POST"])
@unavailable_while_database_is_down
def webhook(request: HttpRequest, platform: str, slug: str) -> HttpResponse:
    if request.method == "GET":
        account = active_account(platform, slug, fresh=True)
        if account is None:
            return _error(404, "unknown account")
        return get_connector(platform).verify_handshake(request, account)

    declared = request.META.get("CONTENT_LENGTH") or "0"
    body: bytes | None = None
    if declared.isdigit() and int(declared) <= settings.CAREMGR_MAX_WEBHOOK_BYTES:
        try:
            body = request.body
        except RequestDataTooBig:
            body = None
    return accept_delivery(platform, slug, body, request.headers, request.content_type or "")


def accept_delivery(
    platform: str,
    slug: str,
    body: bytes | None,
    headers: Mapping[str, str],
    content_type: str,
) -> HttpResponse:
    """The answer to a delivery POSTed to /webhooks/<platform>/<slug>/.

    `body` is None when it was larger than CAREMGR_MAX_WEBHOOK_BYTES (not read further).
    Validated in the order of the contract: account (404), size (413), signature (403),
    rate (429), readable body (400, kept as a failed delivery); then stored and handed
    over (`inbox.stored_together`). A database that cannot be reached answers 503.
    """
    try:
        return _accept(platform, slug, body, headers, content_type)
    except DATABASE_DOWN as exc:
        return database_unavailable(f"/webhooks/{platform}/{slug}/", exc)


def _accept(
    platform: str, slug: str, body: bytes | None, headers: Mapping[str, str], content_type: str
) -> HttpResponse:
    account = active_account(platform, slug)
    if account is None:
        return _error(404, "unknown account")
    if body is None or len(body) > settings.CAREMGR_MAX_WEBHOOK_BYTES:
        return _error(413, "body too large", limit=settings.CAREMGR_MAX_WEBHOOK_BYTES)

    connector = get_connector(platform)
    if not connector.verify_signature(account, body, headers):
        # The kept copy may predate a rotated secret: the stored row decides.
        account = active_account(platform, slug, fresh=True)
        if account is None:
            return _error(404, "unknown account")
        if not connector.verify_signature(account, body, headers):
            log.warning("webhook %s/%s: bad or missing signature", platform, slug)
            return _error(403, "bad or missing signature")

    # Counted after the signature check: forged requests cannot use up an account's budget.
    # A platform answered 429 delivers again later, so nothing is lost, only delayed.
    refusal = rate_limit.hit("webhook", str(account.pk), settings.CAREMGR_WEBHOOK_RATE_LIMIT)
    if refusal is not None:
        if refusal.is_first:
            log.warning("webhook %s/%s: over the rate limit", platform, slug)
        response = _error(429, "too many deliveries", retry_after=refusal.retry_after)
        response["Retry-After"] = str(refusal.retry_after)
        return response

    # The parse only decides between 200 and 400 here; the worker parses again when it files.
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

    # Committed before the answer, with the deliveries that arrived at the same time.
    delivery = Delivery(account=account, body=body, content_type=content_type[:200])
    store_delivery(delivery)
    return JsonResponse({"status": "stored", "delivery": delivery.pk})
