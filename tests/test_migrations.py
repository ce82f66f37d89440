"""The committed migrations match the models: ``makemigrations --check --dry-run`` finds nothing to do."""

import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_missing_migrations():
    out = io.StringIO()
    try:
        call_command("makemigrations", check=True, dry_run=True, interactive=False, stdout=out, stderr=out)
    except SystemExit as exc:  # raised (exit code 1) when a model change has no migration
        pytest.fail(f"models changed without a migration (run `xiaokang makemigrations`):\n{out.getvalue()}"
                    f"\nexit code {exc.code}")
