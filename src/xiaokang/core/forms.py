"""Form pieces every app shares."""

from django import forms


class HtmlDateInput(forms.DateInput):
    """``<input type="date">`` whose value is always ISO ``YYYY-MM-DD``: browsers accept nothing else there, and
    Django's localized date format (``2026/11/30`` under zh-hans) left the field empty."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")
