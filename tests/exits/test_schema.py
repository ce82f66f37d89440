"""The exit rules' tables (``policy.schema.EXIT_TABLES``) match the Django models' columns and types."""

import pytest
from django.apps import apps

from xiaokang.policy.schema import ALL_TABLES, EXIT_TABLES, TABLES, all_unbound_tables

KINDS = {
    "int64": {"BigAutoField", "AutoField", "BigIntegerField", "IntegerField", "PositiveIntegerField",
              "PositiveSmallIntegerField", "SmallIntegerField", "MoneyField"},
    "string": {"CharField", "TextField"},
    "boolean": {"BooleanField"},
    "date": {"DateField"},
}


@pytest.mark.parametrize("key", sorted(EXIT_TABLES))
def test_exit_schema_columns_exist_with_their_types(key):
    table, schema = EXIT_TABLES[key]
    (model,) = [m for m in apps.get_models() if m._meta.db_table == table]
    by_column = {f.column: f for f in model._meta.concrete_fields}
    for name in schema.names:
        assert name in by_column, (table, name)
        f = by_column[name]
        field = f.target_field if f.is_relation else f
        kind = str(schema[name]).rstrip("!").lower()
        assert field.get_internal_type() in KINDS[kind] or type(field).__name__ in KINDS[kind], (table, name)


def test_all_tables_extend_the_household_tables():
    assert ALL_TABLES == {**TABLES, **EXIT_TABLES}
    assert {t.get_name() for t in all_unbound_tables().values()} == {name for name, _ in ALL_TABLES.values()}
