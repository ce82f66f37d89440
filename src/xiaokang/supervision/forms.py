from django import forms
from django.utils.translation import gettext_lazy as _

from xiaokang.core.forms import HtmlDateInput

from .models import Category, Source, Status

DATE = HtmlDateInput()


def _blank(choices):
    return [("", _("全部")), *choices]


class ProblemForm(forms.Form):
    """交办: a problem found by an inspector — a household (户编号) or an area (区划代码)."""

    household_number = forms.CharField(label=_("户编号"), max_length=32, required=False,
                                       help_text=_("涉及具体农户时填写；否则填写区划代码"))
    area_code = forms.CharField(label=_("区划代码"), max_length=12, required=False)
    category = forms.ChoiceField(label=_("问题类别"), choices=Category.choices)
    source = forms.ChoiceField(label=_("发现方式"), choices=Source.choices, initial=Source.COVERT)
    found_on = forms.DateField(label=_("发现日期"), widget=DATE)
    deadline = forms.DateField(label=_("整改期限"), widget=DATE)
    description = forms.CharField(label=_("问题描述"), max_length=1000,
                                  widget=forms.Textarea(attrs={"rows": 3, "maxlength": 1000}))


class RectifyForm(forms.Form):
    note = forms.CharField(label=_("整改情况"), max_length=1000,
                           widget=forms.Textarea(attrs={"rows": 3, "maxlength": 1000}))
    on = forms.DateField(label=_("整改完成日期"), widget=DATE)


class RevisitForm(forms.Form):
    passed = forms.TypedChoiceField(label=_("回访结论"), coerce=lambda v: v == "1",
                                    choices=[("1", _("整改到位，销号")), ("0", _("未整改到位，退回重新整改"))])
    note = forms.CharField(label=_("回访情况"), max_length=1000,
                           widget=forms.Textarea(attrs={"rows": 3, "maxlength": 1000}))
    on = forms.DateField(label=_("回访日期"), widget=DATE)
    deadline = forms.DateField(label=_("新的整改期限（退回时）"), widget=DATE, required=False)


class ProblemFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("状态"), required=False, choices=_blank(Status.choices))
    category = forms.ChoiceField(label=_("问题类别"), required=False, choices=_blank(Category.choices))
    area = forms.CharField(label=_("区划代码"), required=False, max_length=12)
    household = forms.CharField(label=_("户编号"), required=False, max_length=32)
    overdue = forms.BooleanField(label=_("仅看逾期未整改"), required=False)

    def clean_area(self):
        code = self.cleaned_data["area"].strip()
        if code and (not code.isdigit() or len(code) not in (2, 4, 6, 9, 12)):
            raise forms.ValidationError(_("区划代码应为 2、4、6、9 或 12 位数字"))
        return code
