"""Every foreign key can be followed from the row it points at without reading the table.

Deleting an account, a user or a delivery finds the rows that refer to it by their foreign
key; so do the inbox, the case page and the reports. A foreign key needs an index that starts
with its column: its own (whole, or only where it is set) or a composite one that leads with
it. The write path carries no index twice over: none is the first column of a wider one.
"""

import pytest
from django.apps import apps
from django.db import connection

pytestmark = pytest.mark.django_db

APPS = ("inbox", "cases", "security")


def _indexes(table: str) -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {
        name: info["columns"]
        for name, info in constraints.items()
        if (info["index"] or info["unique"] or info["primary_key"]) and info["columns"]
    }


def _foreign_keys():
    for app in APPS:
        for model in apps.get_app_config(app).get_models():
            for field in model._meta.concrete_fields:
                if field.is_relation:
                    yield model, field


@pytest.mark.parametrize(
    ("model", "field"),
    list(_foreign_keys()),
    ids=lambda value: getattr(value, "__name__", None) or getattr(value, "name", ""),
)
def test_a_foreign_key_leads_an_index_of_its_table(model, field):
    leading = {columns[0] for columns in _indexes(model._meta.db_table).values()}
    assert field.column in leading, f"{model.__name__}.{field.name}: no index starts with it"


def test_messages_and_cases_carry_no_foreign_key_index_that_a_wider_one_covers():
    from cases.models import Case, CaseEvent
    from inbox.models import Message

    for model in (Message, Case, CaseEvent):
        indexes = _indexes(model._meta.db_table)
        wider = {columns[0] for columns in indexes.values() if len(columns) > 1}
        single = {name: columns[0] for name, columns in indexes.items() if len(columns) == 1}
        covered = sorted(name for name, column in single.items() if column in wider)
        assert covered == [], f"{model.__name__}: {covered} repeat a composite index"
