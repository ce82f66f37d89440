"""Stored assessment results (评估结果) and administrator-entered parameter values (参数录入)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xiaokang.core.money import MoneyField
from xiaokang.core.scoping import ScopedManager

from .rules.household import VERDICTS


class ParameterValue(models.Model):
    """A dated parameter value entered by an administrator, with its source (merged over the files)."""

    name = models.CharField(_("参数"), max_length=80)
    province = models.CharField(_("省级代码"), max_length=2, blank=True, help_text=_("空 = 全国"))
    effective_from = models.DateField(_("生效日期"))
    value = models.JSONField(_("取值"))
    unit = models.CharField(_("单位"), max_length=30, blank=True)
    status = models.CharField(_("状态"), max_length=20, default="entered")
    source = models.CharField(_("来源"), max_length=500)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   verbose_name=_("录入人"))
    entered_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("参数录入")
        verbose_name_plural = _("参数录入")
        constraints = [models.UniqueConstraint(fields=["name", "province", "effective_from"],
                                               name="uniq_parameter_value")]

    def __str__(self):
        return f"{self.name} {self.province or '全国'} {self.effective_from}: {self.value}"


class HouseholdAssessment(models.Model):
    """One household's exit assessment for one year, as computed by ``policy.rules.household``."""

    household = models.ForeignKey("registry.Household", on_delete=models.CASCADE, related_name="assessments",
                                  verbose_name=_("户"))
    area = models.ForeignKey("areas.Area", to_field="code", db_column="area_code", on_delete=models.PROTECT,
                             related_name="+", verbose_name=_("所在村"), db_constraint=False)
    year = models.PositiveSmallIntegerField(_("年度"))
    member_count = models.PositiveSmallIntegerField(_("年底家庭人口数"))
    net_income = MoneyField(_("家庭纯收入（元）"), db_column="net_income_fen", null=True)
    per_capita_income = MoneyField(_("人均纯收入（元）"), db_column="per_capita_income_fen", null=True)
    income_standard = MoneyField(_("脱贫标准（元/人·年）"), db_column="income_standard_fen")
    standard_key = models.CharField(_("标准"), max_length=20)
    income_above_standard = models.BooleanField(_("一超过"), null=True)
    food_and_clothing = models.BooleanField(_("不愁吃穿"), null=True)
    compulsory_education = models.BooleanField(_("义务教育有保障"), null=True)
    basic_medical = models.BooleanField(_("基本医疗有保障"), null=True)
    safe_housing = models.BooleanField(_("住房安全有保障"), null=True)
    safe_water = models.BooleanField(_("饮水安全有保障"), null=True)
    verdict = models.CharField(_("结论"), max_length=16, choices=list(VERDICTS.items()))
    rule_version = models.CharField(_("规则版本"), max_length=40)
    assessed_at = models.DateTimeField(_("评估时间"))

    area_lookup = "area__code"
    pairing_lookup = "household"
    objects = ScopedManager()

    class Meta:
        verbose_name = _("户年度评估")
        verbose_name_plural = _("户年度评估")
        constraints = [models.UniqueConstraint(fields=["household", "year"], name="uniq_assessment_household_year")]
        indexes = [models.Index(fields=["year", "area"]), models.Index(fields=["year", "verdict"])]

    def __str__(self):
        return f"{self.household_id} {self.year} {self.verdict}"


class AssessmentReason(models.Model):
    """One reason behind an assessment (code + values); the sentence is rendered in the reader's language."""

    household = models.ForeignKey("registry.Household", on_delete=models.CASCADE, related_name="assessment_reasons",
                                  verbose_name=_("户"))
    year = models.PositiveSmallIntegerField(_("年度"))
    code = models.CharField(_("原因代码"), max_length=40)
    member = models.ForeignKey("registry.Member", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+", verbose_name=_("成员"), db_constraint=False)
    amount = models.BigIntegerField(_("数值"), null=True)
    threshold = models.BigIntegerField(_("标准值"), null=True)
    detail = models.CharField(_("说明"), max_length=40, null=True)

    area_lookup = "household__area__code"
    pairing_lookup = "household"
    objects = ScopedManager()

    class Meta:
        verbose_name = _("评估原因")
        verbose_name_plural = _("评估原因")
        indexes = [models.Index(fields=["household", "year"]), models.Index(fields=["year", "code"])]
