"""Village and county exit (贫困村退出、贫困县摘帽): recorded inputs and stored assessments.

Inputs: ``VillageYear`` (a poor village's collective income and road / water / electricity / school /
clinic access in a year), ``CountyYear`` (a county's rural per-capita disposable income in a year),
``EvaluationSample`` (one sampled household of the national special evaluation, 专项评估检查).
Results: ``VillageAssessment``, ``CountyAssessment`` and their reasons (``ExitReason``: codes with
numerator, denominator, amount, threshold), written by ``services`` with ``INSERT … SELECT`` from the
rules ``policy.rules.village`` and ``policy.rules.county``.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from xiaokang.core.money import MoneyField
from xiaokang.core.scoping import AREA_LEVEL, ScopedManager
from xiaokang.policy.rules.county import VERDICTS as COUNTY_VERDICTS
from xiaokang.policy.rules.village import VERDICTS as VILLAGE_VERDICTS


def _area(verbose, related="+"):
    return models.ForeignKey("areas.Area", to_field="code", db_column="area_code", on_delete=models.PROTECT,
                             related_name=related, verbose_name=verbose)


class VillageYear(models.Model):
    """A village's exit conditions in one year (湖南: 村集体经济收入 4 万元以上, 路水电、学校、卫生室)."""

    area = _area(_("村"), "exit_years")
    year = models.PositiveSmallIntegerField(_("年度"))
    collective_income = MoneyField(_("村集体经济收入（元）"), db_column="collective_income_fen", null=True, blank=True)
    has_road = models.BooleanField(_("通硬化路"), null=True, blank=True)
    has_water = models.BooleanField(_("通安全饮水"), null=True, blank=True)
    has_electricity = models.BooleanField(_("通生活用电"), null=True, blank=True)
    has_school_access = models.BooleanField(_("义务教育就学有保障"), null=True, blank=True)
    has_clinic = models.BooleanField(_("有标准化村卫生室"), null=True, blank=True)
    source = models.CharField(_("来源"), max_length=200, blank=True)
    notes = models.TextField(_("备注"), blank=True)

    area_lookup = "area__code"
    pairing_lookup = AREA_LEVEL
    objects = ScopedManager()

    class Meta:
        verbose_name = _("贫困村年度退出条件")
        verbose_name_plural = _("贫困村年度退出条件")
        constraints = [models.UniqueConstraint(fields=["area", "year"], name="uniq_village_year")]

    def __str__(self):
        return f"{self.area_id} {self.year}"


class CountyYear(models.Model):
    """A county's rural per-capita disposable income (农村居民人均可支配收入) in one year."""

    area = _area(_("县"), "exit_county_years")
    year = models.PositiveSmallIntegerField(_("年度"))
    rural_income = MoneyField(_("农村居民人均可支配收入（元）"), db_column="rural_income_fen", null=True, blank=True)
    source = models.CharField(_("来源"), max_length=200, blank=True)

    area_lookup = "area__code"
    pairing_lookup = AREA_LEVEL
    objects = ScopedManager()

    class Meta:
        verbose_name = _("贫困县年度收入")
        verbose_name_plural = _("贫困县年度收入")
        constraints = [models.UniqueConstraint(fields=["area", "year"], name="uniq_county_year")]

    def __str__(self):
        return f"{self.area_id} {self.year}"


class SampleKind(models.TextChoices):
    CORRECTLY_EXITED = "correctly_exited", _("正确退出")
    WRONGLY_EXITED = "wrongly_exited", _("错退")
    MISSED = "missed", _("漏评")
    NON_REGISTERED = "non_registered", _("非建档立卡户（非漏评）")
    POOR = "poor", _("未脱贫建档立卡户")


class EvaluationSample(models.Model):
    """One household sampled by the special evaluation (专项评估检查) of a county in a year.

    ``area`` is the sampled village (or the county). ``people``: the household's people. ``approves``:
    the household's answer on approval (认可), blank when not surveyed.
    """

    area = _area(_("抽样村（或县）"), "evaluation_samples")
    year = models.PositiveSmallIntegerField(_("评估年度"))
    household_ref = models.CharField(_("户编号或匿名编号"), max_length=40, blank=True)
    people = models.PositiveIntegerField(_("人口"))
    kind = models.CharField(_("核查结论"), max_length=20, choices=SampleKind.choices)
    approves = models.BooleanField(_("认可"), null=True, blank=True)

    area_lookup = "area__code"
    objects = ScopedManager()

    class Meta:
        verbose_name = _("专项评估抽样户")
        verbose_name_plural = _("专项评估抽样户")
        indexes = [models.Index(fields=["year", "area"])]

    def __str__(self):
        return f"{self.area_id} {self.year} {self.household_ref} {self.kind}"


class VillageAssessment(models.Model):
    """One poor village's exit assessment for one year (``policy.rules.village``)."""

    area = models.ForeignKey("areas.Area", to_field="code", db_column="area_code", on_delete=models.CASCADE,
                             related_name="+", verbose_name=_("村"), db_constraint=False)
    year = models.PositiveSmallIntegerField(_("年度"))
    poor_people = models.PositiveIntegerField(_("未脱贫人口"))
    population = models.PositiveIntegerField(_("户籍人口"), null=True)
    incidence_max_bp = models.PositiveIntegerField(_("贫困发生率上限（万分之）"))
    collective_income = MoneyField(_("村集体经济收入（元）"), db_column="collective_income_fen", null=True)
    collective_income_min = MoneyField(_("村集体经济收入下限（元）"), db_column="collective_income_min_fen")
    incidence_below = models.BooleanField(_("贫困发生率达标"), null=True)
    collective_income_ok = models.BooleanField(_("集体经济收入达标"), null=True)
    road = models.BooleanField(_("通路"), null=True)
    water = models.BooleanField(_("通水"), null=True)
    electricity = models.BooleanField(_("通电"), null=True)
    school = models.BooleanField(_("就学"), null=True)
    clinic = models.BooleanField(_("卫生室"), null=True)
    verdict = models.CharField(_("结论"), max_length=16, choices=list(VILLAGE_VERDICTS.items()))
    rule_version = models.CharField(_("规则版本"), max_length=40)
    assessed_at = models.DateTimeField(_("评估时间"))

    area_lookup = "area__code"
    pairing_lookup = AREA_LEVEL
    objects = ScopedManager()

    class Meta:
        verbose_name = _("贫困村退出评估")
        verbose_name_plural = _("贫困村退出评估")
        constraints = [models.UniqueConstraint(fields=["area", "year"], name="uniq_village_assessment")]
        indexes = [models.Index(fields=["year", "area"])]

    def __str__(self):
        return f"{self.area_id} {self.year} {self.verdict}"


class CountyAssessment(models.Model):
    """One poor county's exit assessment for one year, with every rate's numerator and denominator."""

    area = models.ForeignKey("areas.Area", to_field="code", db_column="area_code", on_delete=models.CASCADE,
                             related_name="+", verbose_name=_("县"), db_constraint=False)
    year = models.PositiveSmallIntegerField(_("年度"))
    remaining_poor = models.PositiveIntegerField(_("未脱贫人口"))
    exited_people = models.PositiveIntegerField(_("已脱贫人口"))
    rural_population = models.PositiveIntegerField(_("农村人口"), null=True)
    nonregistered_population = models.PositiveIntegerField(_("非建档立卡农村人口"), null=True)
    incidence_max_bp = models.PositiveIntegerField(_("贫困发生率上限（万分之）"))
    rural_income = MoneyField(_("农村居民人均可支配收入（元）"), db_column="rural_income_fen", null=True)
    income_path = MoneyField(_("收入目标（元）"), db_column="income_path_fen", null=True)
    sampled_exited = models.PositiveIntegerField(_("抽样已脱贫人口"))
    wrongly_exited = models.PositiveIntegerField(_("错退人口"))
    sampled_nonregistered = models.PositiveIntegerField(_("抽样非建档立卡人口"))
    missed = models.PositiveIntegerField(_("漏评人口"))
    surveyed_households = models.PositiveIntegerField(_("调查户数"))
    approving_households = models.PositiveIntegerField(_("认可户数"))
    comprehensive_people = models.PositiveIntegerField(_("综合贫困人口（含推算）"), null=True)
    wrong_exit_max_bp = models.PositiveIntegerField(_("错退率上限（万分之）"))
    missed_max_bp = models.PositiveIntegerField(_("漏评率上限（万分之）"))
    comprehensive_max_bp = models.PositiveIntegerField(_("综合贫困发生率上限（万分之）"))
    approval_min_bp = models.PositiveIntegerField(_("群众认可度下限（万分之）"))
    incidence_below = models.BooleanField(_("贫困发生率达标"), null=True)
    rural_income_ok = models.BooleanField(_("农民收入达标"), null=True)
    wrong_exit_ok = models.BooleanField(_("错退率达标"), null=True)
    missed_ok = models.BooleanField(_("漏评率达标"), null=True)
    comprehensive_ok = models.BooleanField(_("综合贫困发生率达标"), null=True)
    approval_ok = models.BooleanField(_("群众认可度达标"), null=True)
    verdict = models.CharField(_("结论"), max_length=16, choices=list(COUNTY_VERDICTS.items()))
    rule_version = models.CharField(_("规则版本"), max_length=40)
    assessed_at = models.DateTimeField(_("评估时间"))

    area_lookup = "area__code"
    pairing_lookup = AREA_LEVEL
    objects = ScopedManager()

    class Meta:
        verbose_name = _("贫困县摘帽评估")
        verbose_name_plural = _("贫困县摘帽评估")
        constraints = [models.UniqueConstraint(fields=["area", "year"], name="uniq_county_assessment")]

    def __str__(self):
        return f"{self.area_id} {self.year} {self.verdict}"


class ExitReason(models.Model):
    """One reason behind a village or county assessment: a code with its numbers (sentence rendered later)."""

    level = models.CharField(_("级别"), max_length=8, choices=[("village", _("村")), ("county", _("县"))])
    area = models.ForeignKey("areas.Area", to_field="code", db_column="area_code", on_delete=models.CASCADE,
                             related_name="+", verbose_name=_("区划"), db_constraint=False)
    year = models.PositiveSmallIntegerField(_("年度"))
    code = models.CharField(_("原因代码"), max_length=40)
    numerator = models.BigIntegerField(_("分子"), null=True)
    denominator = models.BigIntegerField(_("分母"), null=True)
    amount = models.BigIntegerField(_("数值"), null=True)
    threshold = models.BigIntegerField(_("标准值"), null=True)
    detail = models.CharField(_("说明"), max_length=40, null=True)

    area_lookup = "area__code"
    pairing_lookup = AREA_LEVEL
    objects = ScopedManager()

    class Meta:
        verbose_name = _("退出评估原因")
        verbose_name_plural = _("退出评估原因")
        indexes = [models.Index(fields=["level", "year", "area"])]

    def __str__(self):
        return f"{self.area_id} {self.year} {self.code}"
