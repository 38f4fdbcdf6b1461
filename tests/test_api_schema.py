"""The API keeps the promises of its own OpenAPI schema, for any input the schema allows.

schemathesis reads `/api/v1/schema/` from the running application (its WSGI handler, in
this process, on the test database) and sends generated requests to every operation as a
supervisor and as an agent: no answer may be a server error, and each status, content type
and body must be one the schema documents. Path ids are mostly ids of real rows, so the
operations get past their 404 and into the work.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def served_schema(mode: GenerationMode):
    """The schema the application serves (read when the module loads: no database needed)."""
    loaded = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())
    loaded.config.generation.update(modes=[mode])
    return loaded


schema = served_schema(GenerationMode.POSITIVE)
hostile = served_schema(GenerationMode.NEGATIVE)

# the rows an {id} of each collection should mostly name
REAL_IDS = {"cases": ("case", "sibling", "team_b"), "messages": ("message", "second", "failed")}


def aim_at_real_rows(case, values: dict) -> None:
    """Replace a generated id by the id of a real row three times in four."""
    generated = case.path_parameters.get("id") if case.path_parameters else None
    if not isinstance(generated, int) or generated % 4 == 3:
        return
    collection = case.path.split("/")[3]
    names = REAL_IDS.get(collection, ("contact",))
    case.path_parameters["id"] = values[names[generated % len(names)]]


@pytest.fixture(autouse=True)
def _one_connection_per_test():
    """Requests reach the WSGI handler directly, so, as Django's test client does, the
    request signals must not close the connection the test's transaction is open on."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def call_and_check(case, values: dict, user: str, checks=CHECKS) -> None:
    token = Token.objects.get_or_create(user_id=values[user])[0].key
    aim_at_real_rows(case, values)
    response = case.call(headers={"Authorization": f"Token {token}"})
    case.validate_response(response, checks=checks)


@schema.parametrize()
@EXAMPLES
def test_every_operation_keeps_to_the_schema_for_a_supervisor(case, role_world):
    call_and_check(case, role_world["values"], "supervisor")


@schema.parametrize()
@EXAMPLES
def test_every_operation_keeps_to_the_schema_for_an_agent(case, role_world):
    call_and_check(case, role_world["values"], "user")


@hostile.parametrize()
@EXAMPLES
def test_input_outside_the_schema_is_refused_without_a_server_error(case, role_world):
    call_and_check(case, role_world["values"], "supervisor", checks=[not_a_server_error])
