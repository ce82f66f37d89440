"""Search and filter form of the household list (贫困户查询)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from xiaokang.policy.rules.household import MET, NOT_MET, UNASSESSABLE

from . import codes
from .idnumber import validate_id_number
from .models import Household

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


class HouseholdEditForm(forms.ModelForm):
    """The main fields of a household (not its number, village or record fields), with the version read."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

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
