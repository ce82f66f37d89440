"""The monitoring tables of ``xiaokang.policy.schema`` match the Django models (names and types)."""

import pytest
from django.apps import apps

from xiaokang.policy.schema import MONITORING_TABLES

KINDS = {
    "int64": {"BigAutoField", "BigIntegerField", "PositiveSmallIntegerField", "ForeignKey", "MoneyField"},
    "string": {"CharField"},
    "date": {"DateField"},
}


@pytest.mark.parametrize("key", sorted(MONITORING_TABLES))
def test_schema_columns_exist_with_their_types(key):
    table, schema = MONITORING_TABLES[key]
    (model,) = [m for m in apps.get_models() if m._meta.db_table == table]
    by_column = {f.column: f for f in model._meta.concrete_fields}
    for name in schema.names:
        f = by_column[name]
        internal = "ForeignKey" if f.is_relation else type(f).__name__
        assert internal in KINDS[str(schema[name]).rstrip("!").lower()], (table, name, internal)
