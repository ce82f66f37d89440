"""Filter and confirm forms of the data-quality pages (疑点数据)."""

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from . import catalogue
from .models import FindingStatus


def ui_lang() -> str:
    """The catalogue language of the request: ``en`` in English mode, else ``zh``."""
    return "en" if (get_language() or "").startswith("en") else "zh"


def _blank(choices, label=_("全部")):
    return [("", label), *choices]


def _rule_choices():
    return _blank(catalogue.choices(ui_lang()))


class FindingFilterForm(forms.Form):
    rule = forms.ChoiceField(label=_("规则"), required=False, choices=_rule_choices)  # titles in the UI language
    status = forms.ChoiceField(label=_("状态"), required=False, choices=_blank(FindingStatus.choices))
    area = forms.CharField(label=_("区划代码"), required=False, max_length=12,
                           help_text=_("区划代码前缀：县 6 位、乡镇 9 位、村 12 位"))

    def clean_area(self):
        code = self.cleaned_data["area"].strip()
        if code and (not code.isdigit() or len(code) not in (2, 4, 6, 9, 12)):
            raise forms.ValidationError(_("区划代码应为 2、4、6、9 或 12 位数字"))
        return code


class ConfirmForm(forms.Form):
    reason = forms.CharField(label=_("核实无误理由"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("请填写核实无误的理由"))
        return reason
