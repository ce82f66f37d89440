"""The registry tables as the rules see them (names and types), without Django.

The same names are the Django tables in the registry database and the Parquet files of a snapshot.
``tests/policy/test_schema.py`` checks that every column here exists in the Django models.
"""

import ibis

HOUSEHOLD = ibis.schema({
    "id": "int64",
    "household_number": "string",
    "area_code": "string",
    "household_type": "string",
    "main_cause": "string",
    "identified_year": "int64",
    "poverty_status": "string",
    "exit_year": "int64",
    "housing_grade": "string",
    "housing_renovated_year": "int64",
    "water_scarce_area": "boolean",
    "water_quantity_lpd": "int64",
    "water_quality_ok": "boolean",
    "water_piped": "boolean",
    "water_fetch_minutes": "int64",
    "water_fetch_distance_m": "int64",
    "water_fetch_vertical_m": "int64",
    "water_outage_days": "int64",
    "food_secure": "boolean",
    "clothing_secure": "boolean",
})

MEMBER = ibis.schema({
    "id": "int64",
    "household_id": "int64",
    "birth_date": "date",
    "schooling_status": "string",
    "not_attending_reason": "string",
    "basic_medical_insurance": "boolean",
    "serious_illness_insurance": "boolean",
    "entered_on": "date",
    "left_on": "date",
})

INCOME = ibis.schema({
    "id": "int64",
    "household_id": "int64",
    "year": "int64",
    "wage_fen": "int64",
    "business_income_fen": "int64",
    "business_expenses_fen": "int64",
    "property_income_fen": "int64",
    "family_planning_fen": "int64",
    "dibao_fen": "int64",
    "tekun_fen": "int64",
    "pension_fen": "int64",
    "ecological_fen": "int64",
    "other_transfer_fen": "int64",
})

TABLES = {
    "household": ("registry_household", HOUSEHOLD),
    "member": ("registry_member", MEMBER),
    "income": ("registry_income", INCOME),
}


def unbound(tables: dict) -> dict:
    """``{key: (table name, schema)}`` → Ibis tables not bound to any backend; compile with ``ibis.to_sql``."""
    return {key: ibis.table(schema, name=name) for key, (name, schema) in tables.items()}


def unbound_tables() -> dict:
    """The household rule's tables, named as the registry tables."""
    return unbound(TABLES)


# --- Village and county exit (xiaokang.exits): the area tables and the exit inputs. -------------------
# Kept out of ``TABLES`` (the household rule's tables); ``ALL_TABLES`` is what a snapshot writes.

AREA = ibis.schema({
    "code": "string",
    "name": "string",
    "level": "string",
    "parent_code": "string",
    "is_national_key_county": "boolean",
    "is_contiguous_area_county": "boolean",
    "is_provincial_poor_county": "boolean",
    "county_exit_year": "int64",
    "is_poor_village": "boolean",
    "poor_village_identified_year": "int64",
    "village_exit_year": "int64",
})

AREA_POPULATION = ibis.schema({
    "id": "int64",
    "area_code": "string",
    "year": "int64",
    "registered_population": "int64",
    "rural_population": "int64",
})

VILLAGE_YEAR = ibis.schema({
    "id": "int64",
    "area_code": "string",
    "year": "int64",
    "collective_income_fen": "int64",
    "has_road": "boolean",
    "has_water": "boolean",
    "has_electricity": "boolean",
    "has_school_access": "boolean",
    "has_clinic": "boolean",
})

COUNTY_YEAR = ibis.schema({
    "id": "int64",
    "area_code": "string",
    "year": "int64",
    "rural_income_fen": "int64",
})

EVALUATION_SAMPLE = ibis.schema({
    "id": "int64",
    "area_code": "string",
    "year": "int64",
    "people": "int64",
    "kind": "string",
    "approves": "boolean",
})

EXIT_TABLES = {
    "area": ("areas_area", AREA),
    "population": ("areas_areapopulation", AREA_POPULATION),
    "village_year": ("exits_villageyear", VILLAGE_YEAR),
    "county_year": ("exits_countyyear", COUNTY_YEAR),
    "sample": ("exits_evaluationsample", EVALUATION_SAMPLE),
}

ALL_TABLES = {**TABLES, **EXIT_TABLES}


def all_unbound_tables() -> dict:
    """``unbound_tables`` plus the area and exit tables (the village and county rules read these)."""
    return unbound(ALL_TABLES)


# --- Data-quality checks (xiaokang.quality): the registry columns the cleaning rules read. ------------
# Same tables as ``TABLES`` with more columns; kept apart so the household rule and snapshots are unchanged.

QUALITY_HOUSEHOLD = ibis.schema({
    "id": "int64",
    "household_number": "string",
    "area_code": "string",
    "household_type": "string",
    "main_cause": "string",
    "other_causes": "string",
    "identified_year": "int64",
    "farmland_mu": "float64",
    "pairing_cadre": "string",
})

QUALITY_MEMBER = ibis.schema({
    "id": "int64",
    "household_id": "int64",
    "document_type": "string",
    "id_number": "string",
    "sex": "string",
    "birth_date": "date",
    "relation": "string",
    "schooling_status": "string",
    "health_status": "string",
    "disability_grade": "string",
    "labour_capacity": "string",
    "work_months": "int64",
    "on_dibao": "boolean",
    "entered_on": "date",
    "left_on": "date",
})

QUALITY_TABLES = {
    "household": ("registry_household", QUALITY_HOUSEHOLD),
    "member": ("registry_member", QUALITY_MEMBER),
    "income": ("registry_income", INCOME),
}


def quality_unbound_tables() -> dict:
    """Unbound Ibis tables for the data-quality rules (``xiaokang.quality.rules``)."""
    return unbound(QUALITY_TABLES)


# --- Return-to-poverty monitoring (xiaokang.monitoring): recorded events, warnings, cases. -------------
# Kept out of ``TABLES`` and ``ALL_TABLES``; ``exits.snapshot.write_snapshot(..., monitoring=True)`` writes them.

HOUSEHOLD_EVENT = ibis.schema({
    "id": "int64",
    "household_id": "int64",
    "member_id": "int64",
    "area_code": "string",
    "kind": "string",
    "occurred_on": "date",
    "amount_fen": "int64",
})

MONITORING_WARNING = ibis.schema({
    "id": "int64",
    "household_id": "int64",
    "area_code": "string",
    "year": "int64",
    "kind": "string",
    "status": "string",
})

MONITORING_CASE = ibis.schema({
    "id": "int64",
    "household_id": "int64",
    "area_code": "string",
    "status": "string",
    "opened_on": "date",
    "eliminated_on": "date",
})

MONITORING_TABLES = {
    "event": ("monitoring_householdevent", HOUSEHOLD_EVENT),
    "warning": ("monitoring_warning", MONITORING_WARNING),
    "case": ("monitoring_monitoringcase", MONITORING_CASE),
}

def monitoring_unbound_tables() -> dict:
    """``unbound_tables`` plus the monitoring tables (the warning and consolidation-class rules read these)."""
    return unbound({**TABLES, **MONITORING_TABLES})
