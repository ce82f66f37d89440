"""Form pieces every app shares."""

from django import forms


class HtmlDateInput(forms.DateInput):
    """``<input type="date">`` whose value is always ISO ``YYYY-MM-DD``: browsers accept nothing else there, and
    Django's localized date format (``2026/11/30`` under zh-hans) left the field empty."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


def valid_filters(form) -> dict:
    """The valid fields of a filter form, by name: a field that does not validate is left out (the page then
    shows all for it, with the form's error), the others filter; ``{}`` for an unbound form."""
    if not form.is_bound:
        return {}
    form.is_valid()
    return {name: value for name, value in form.cleaned_data.items() if name not in form.errors}
