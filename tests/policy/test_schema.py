"""The rule's table schema (``xiaokang.policy.schema.TABLES``) matches the Django models' tables."""

import pytest
from django.apps import apps

from xiaokang.policy.schema import TABLES, unbound_tables


def _model_for(table: str):
    matches = [m for m in apps.get_models() if m._meta.db_table == table]
    assert len(matches) == 1, f"no (single) Django model for table {table}"
    return matches[0]


def _columns(model) -> set[str]:
    return {f.column for f in model._meta.get_fields() if getattr(f, "column", None) and f.concrete}


@pytest.mark.parametrize("key", sorted(TABLES))
def test_every_schema_column_exists_in_the_model(key):
    table, schema = TABLES[key]
    columns = _columns(_model_for(table))
    missing = [c for c in schema.names if c not in columns]
    assert not missing, f"{table}: columns {missing} not in the Django model"


@pytest.mark.parametrize("key", sorted(TABLES))
def test_schema_types_agree_with_the_fields(key):
    table, schema = TABLES[key]
    model = _model_for(table)
    by_column = {f.column: f for f in model._meta.concrete_fields}
    kinds = {
        "int64": {"BigAutoField", "AutoField", "BigIntegerField", "IntegerField", "PositiveIntegerField",
                  "PositiveSmallIntegerField", "SmallIntegerField", "ForeignKey", "MoneyField"},
        "string": {"CharField", "TextField", "ForeignKey"},
        "boolean": {"BooleanField"},
        "date": {"DateField"},
    }
    for name in schema.names:
        f = by_column[name]
        kind = str(schema[name]).rstrip("!").lower()
        internal = f.get_internal_type() if not f.is_relation else "ForeignKey"
        assert internal in kinds[kind] or type(f).__name__ in kinds[kind], (table, name, kind, internal)
        if f.is_relation:  # the column has the type of the target field (area code string, id integer)
            target = f.target_field.get_internal_type()
            assert target in kinds[kind], (table, name, kind, target)


def test_unbound_tables_are_named_as_the_registry_tables():
    tables = unbound_tables()
    assert set(tables) == {"household", "member", "income"}
    for key, t in tables.items():
        assert t.get_name() == TABLES[key][0]
