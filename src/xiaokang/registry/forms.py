"""Search and filter form of the household list (贫困户查询)."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from xiaokang.core.forms import HtmlDateInput
from xiaokang.core.logmask import mask_phone
from xiaokang.policy.rules.household import MET, NOT_MET, UNASSESSABLE

from . import codes
from .idnumber import validate_id_number
from .models import Household, VisitMode

YEARS = list(range(2014, 2021))
NOT_ASSESSED = "none"


def _blank(choices, label=_("全部")):
    return [("", label), *choices]


class HouseholdFilterForm(forms.Form):
    q = forms.CharField(label=_("查询"), required=False, max_length=64,
                        widget=forms.TextInput(attrs={"placeholder": _("户编号、成员姓名或完整身份证号")}))
    area = forms.CharField(label=_("区划代码"), required=False, max_length=12,
                           help_text=_("区划代码前缀：县 6 位、乡镇 9 位、村 12 位"))
    poverty_status = forms.ChoiceField(label=_("脱贫属性（当前）"), required=False,
                                       choices=_blank(codes.PovertyStatus.choices))
    household_type = forms.ChoiceField(label=_("贫困户属性"), required=False,
                                       choices=_blank(codes.HouseholdType.choices))
    main_cause = forms.ChoiceField(label=_("主要致贫原因"), required=False,
                                   choices=_blank(codes.PovertyCause.choices))
    year = forms.TypedChoiceField(label=_("评估年度"), required=False, coerce=int, empty_value=None,
                                  choices=_blank([(y, str(y)) for y in YEARS], _("最新")))
    verdict = forms.ChoiceField(label=_("评估结论"), required=False, choices=_blank([
        (MET, _("达到脱贫标准")), (NOT_MET, _("未达到脱贫标准")), (UNASSESSABLE, _("无法评估")),
        (NOT_ASSESSED, _("未评估")),
    ]))

    def clean_area(self):
        code = self.cleaned_data["area"].strip()
        if code and (not code.isdigit() or len(code) not in (2, 4, 6, 9, 12)):
            raise forms.ValidationError(_("区划代码应为 2、4、6、9 或 12 位数字"))
        return code

    def clean_q(self):
        return " ".join(self.cleaned_data["q"].split())

    @staticmethod
    def id_number_query(q: str) -> str | None:
        """The normalized ID number when ``q`` is a complete, valid 18-character number (exact search only)."""
        if len(q) != 18:
            return None
        check = validate_id_number(q)
        return check.normalized if check.valid else None


YES_NO = [("True", _("是")), ("False", _("否"))]


class MaskedInput(forms.TextInput):
    """A text input that shows its number masked (forms never show a full ID or phone number)."""

    def __init__(self, mask, attrs=None):
        super().__init__(attrs)
        self.mask = mask

    def format_value(self, value):
        return self.mask(str(value)) if value else value


class MaskedNumberField(forms.CharField):
    """A number shown masked: sent back unchanged (still masked) it counts as unchanged and keeps the stored
    number (``MaskedNumbersForm``); a full new number replaces it."""

    def __init__(self, *, mask, **kwargs):
        kwargs["widget"] = MaskedInput(mask)
        super().__init__(**kwargs)
        self.mask = mask

    def has_changed(self, initial, data):
        if initial and data == self.mask(str(initial)):
            return False
        return super().has_changed(initial, data)


class MaskedNumbersForm(forms.ModelForm):
    """A model form whose ``masked`` fields (name → mask) show the stored number masked and keep it when the
    masked value comes back; the help text says how to change it. The admin's member and household forms and
    the web's household edit and change-request forms: the full number shows only on the household page,
    to the roles that may see it, logged (a red-team trial read full phone numbers in the edit forms)."""

    masked: dict = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, mask in self.masked.items():
            old = self.fields.get(name)
            if old is None:
                continue
            self.fields[name] = MaskedNumberField(
                mask=mask, max_length=old.max_length, required=old.required, label=old.label,
                help_text=_("显示为脱敏号码；不改动则保留原号码，输入完整的新号码则修改"))

    def clean(self):
        data = super().clean()
        for name, mask in self.masked.items():
            stored = getattr(self.instance, name, "") if self.instance.pk is not None else ""
            if name in data and stored and data[name] == mask(stored):
                data[name] = stored
                continue
            value = data.get(name)
            if value and "*" in value:  # one digit of the masked display edited: it would be stored masked
                self.add_error(name, _("号码含 *：不改动请保持脱敏显示原样（保留原号码），修改请输入完整的新号码"))
            elif value and name in NUMBER_FORMATS and not NUMBER_FORMATS[name][0].match(value):
                self.add_error(name, NUMBER_FORMATS[name][1])
        return data


# The form of a phone number (联系电话): a mobile or landline number, digits with an optional leading + and
# separators (- or spaces), 7–20 characters.
NUMBER_FORMATS = {
    "phone": (re.compile(r"^\+?\d[\d\- ]{5,18}\d$"),
              _("联系电话格式不正确：应为 7–20 位的手机或固定电话号码（数字，可含 - 和空格，如 13812345678、0731-22123456）")),
}


class HouseholdEditForm(MaskedNumbersForm):
    """The main fields of a household (not its number, village or record fields), with the version read."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    masked = {"phone": mask_phone}

    class Meta:
        model = Household
        fields = [
            "natural_village", "phone", "household_type", "identification_standard", "main_cause", "other_causes",
            "identified_year", "poverty_status", "exit_year", "return_year", "pairing_cadre",
            "food_secure", "clothing_secure", "housing_grade", "housing_renovated_year", "housing_area_m2",
            "water_scarce_area", "water_quantity_lpd", "water_quality_ok", "water_piped", "water_fetch_minutes",
            "water_fetch_distance_m", "water_fetch_vertical_m", "water_outage_days",
            "farmland_mu", "irrigated_mu", "forest_mu", "cooperative_member", "road_distance_km",
        ]
        # Always posted (a checkbox left unticked is not), so an omitted field is never taken as "no".
        widgets = {"water_scarce_area": forms.Select(choices=YES_NO), "cooperative_member": forms.Select(choices=YES_NO)}


class VisitForm(forms.Form):
    """A pairing cadre's visit (帮扶走访记录, ``models.Visit``) on the household page."""

    visited_on = forms.DateField(label=_("走访日期"), widget=HtmlDateInput())
    mode = forms.ChoiceField(label=_("走访方式"), choices=VisitMode.choices, initial=VisitMode.HOME)
    situation = forms.CharField(label=_("走访情况"), max_length=1000,
                                widget=forms.Textarea(attrs={"rows": 3, "maxlength": 1000}))
    needs = forms.CharField(label=_("困难与诉求"), max_length=500, required=False)
    measures = forms.CharField(label=_("帮扶措施与下步打算"), max_length=500, required=False)


class VisitFilterForm(forms.Form):
    """Filters of the visit list (帮扶走访): year, area prefix, household number, way of visiting."""

    year = forms.CharField(label=_("年度"), required=False, max_length=4,
                           help_text=_("空：本年度；all：全部年度"))
    area = forms.CharField(label=_("区划代码"), required=False, max_length=12,
                           help_text=_("区划代码前缀：县 6 位、乡镇 9 位、村 12 位"))
    household = forms.CharField(label=_("户编号"), required=False, max_length=32)
    mode = forms.ChoiceField(label=_("走访方式"), required=False, choices=_blank(VisitMode.choices))

    clean_area = HouseholdFilterForm.clean_area

    def clean_year(self):
        """None (this year), "all", or a year from 2014 on."""
        value = self.cleaned_data["year"].strip().lower()
        if not value:
            return None
        if value == "all":
            return value
        if not value.isdigit() or not 2014 <= int(value) <= 2100:
            raise forms.ValidationError(_("年度应为 2014 年以后的四位年份，或 all（全部年度）"))
        return int(value)

    def clean_household(self):
        return self.cleaned_data["household"].strip()
