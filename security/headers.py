"""Content-Security-Policy on every response: scripts, styles, images and connections only
from caremgr itself, so an injected tag that escaping ever missed cannot run or phone home.

The pages keep to it: every script and style is a static file, no inline code, no `style`
attributes, no `eval`. WebSocket connections to the same host are covered by 'self'.
The policy itself is CAREMGR_CSP in the settings.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.deprecation import MiddlewareMixin


class ContentSecurityPolicyMiddleware(MiddlewareMixin):
    """Adds the policy of CAREMGR_CSP unless a view has set its own (sync and async alike)."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if settings.CAREMGR_CSP and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = settings.CAREMGR_CSP
        return response
