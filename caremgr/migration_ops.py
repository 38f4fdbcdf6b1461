"""Schema operations the generated migrations do not do well.

`DropFieldIndexes` takes foreign keys' own indexes away without touching their columns.
Django writes that change (`db_index=False`) as an `AlterField`, which SQLite can only carry
out by copying the whole table into a new one, once per field; here each index is dropped by
name on every database, so a large inbox on SQLite loses them in a moment instead.
"""

from django.db import migrations
from django.db.migrations.operations.base import Operation


class DropFieldIndexes(Operation):
    """The `AlterField`s that set `db_index=False`, applied to the state, and on the database
    the single-column index of each field dropped; reversed, each index is built again."""

    reversible = True

    def __init__(self, alterations: list[migrations.AlterField]) -> None:
        self.alterations = alterations

    def deconstruct(self):
        return self.__class__.__qualname__, [self.alterations], {}

    def state_forwards(self, app_label, state) -> None:
        for alteration in self.alterations:
            alteration.state_forwards(app_label, state)

    def _fields(self, app_label, schema_editor, state):
        """(model, field) of each alteration, as `state` has them (the indexed field)."""
        for alteration in self.alterations:
            model = state.apps.get_model(app_label, alteration.model_name)
            if self.allow_migrate_model(schema_editor.connection.alias, model):
                yield model, model._meta.get_field(alteration.name)

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        for model, field in self._fields(app_label, schema_editor, from_state):
            named = {index.name for index in model._meta.indexes}
            for name in schema_editor._constraint_names(
                model, [field.column], index=True, unique=False, primary_key=False
            ):
                if name not in named:  # a partial index of the model's own stays
                    schema_editor.execute(schema_editor._delete_index_sql(model, name))

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        for model, field in self._fields(app_label, schema_editor, to_state):
            schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))

    def describe(self) -> str:
        fields = ", ".join(f"{a.model_name}.{a.name}" for a in self.alterations)
        return f"Drop the own index of {fields}"
