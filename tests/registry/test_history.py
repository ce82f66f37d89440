"""The audit tables of the registry (django-simple-history): their keys."""


def test_history_keys_are_bigint():
    """A 1,000,000-household import writes ~4.3 million history rows: a 4-byte key would run out."""
    from xiaokang.registry.models import Household, Income, Member

    for model in (Household, Member, Income):
        assert model.history.model._meta.pk.get_internal_type() == "BigAutoField", model
