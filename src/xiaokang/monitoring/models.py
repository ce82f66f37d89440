"""Return-to-poverty monitoring (防止返贫动态监测): recorded events, early warnings, monitoring cases
(监测对象), assistance measures, income checks and the post-exit consolidation class.

Source: ../shared/reference/policy.md §6 (objects, risk types, channels, procedure, risk elimination) and §7
(classes). Every row carries its village's area code (``area_code``, ``area_lookup``) and is read through
``ScopedManager.for_user``. Cases are never deleted: after risk elimination the base record stays.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from simple_history.models import HistoricalRecords

from xiaokang.core.audit import AuditChannelBase
from xiaokang.core.money import MoneyField
from xiaokang.core.scoping import ScopedManager
from xiaokang.policy.rules.monitoring import CLASSES


# The labels of the warning types (``policy.rules.monitoring.WARNING_KINDS``, which has no Django), translatable
# for the pages; tests check they stay the same Chinese text as the rule's.
WARNING_KIND_LABELS = {
    "MEDICAL_COST": _("医疗自付费用高"),
    "LABOURER_DEATH": _("劳动力死亡"),
    "NEW_DISABILITY": _("新增残疾"),
    "DISASTER": _("遭受自然灾害或意外事故"),
    "JOB_LOSS": _("务工就业中断"),
    "INCOME_DROP": _("收入较上年大幅下降"),
    "INCOME_IN_RANGE": _("收入在监测范围内"),
}


class EventKind(models.TextChoices):
    """Recorded events (部门筛查预警 / 走访排查 signals, policy.md §6.6)."""

    MEDICAL_COST = "medical_cost", _("医疗自付费用")
    LABOURER_DEATH = "labourer_death", _("劳动力死亡")
    DISABILITY = "disability", _("新增残疾")
    DISASTER = "disaster", _("自然灾害或意外事故")
    JOB_LOSS = "job_loss", _("务工失业")


class Category(models.TextChoices):
    """监测对象类别 (policy.md §6.2)."""

    UNSTABLE = "unstable", _("脱贫不稳定户")
    EDGE = "edge", _("边缘易致贫户")
    SUDDEN = "sudden", _("突发严重困难户")


class RiskType(models.TextChoices):
    """致贫/返贫风险 (policy.md §6.3; up to five per household)."""

    ILLNESS = "01", _("因病")
    SCHOOLING = "02", _("因学")
    DISABILITY = "03", _("因残")
    DISASTER = "04", _("因自然灾害")
    ACCIDENT = "05", _("因意外事故")
    BUSINESS = "06", _("因产业项目失败")
    EMPLOYMENT = "07", _("因务工就业不稳")
    LACK_LABOUR = "08", _("缺劳动力")
    HOUSING = "09", _("因安全住房")
    WATER = "10", _("因安全饮水")
    OTHER = "99", _("其他")


class Channel(models.TextChoices):
    """发现渠道 (policy.md §6.4)."""

    SELF = "self", _("农户自主申报")
    CADRE = "cadre", _("基层干部排查")
    SECTOR = "sector", _("部门筛查预警")


class CaseStatus(models.TextChoices):
    VERIFYING = "verifying", _("识别中")
    MONITORED = "monitored", _("监测帮扶中")
    NOT_INCLUDED = "not_included", _("未纳入监测")
    ELIMINATED = "eliminated", _("风险已消除")
    TRACKING = "tracking", _("持续跟踪（无劳动能力）")


class EliminationKind(models.TextChoices):
    """风险消除方式 (policy.md §6.5)."""

    ASSISTED = "assisted", _("帮扶消除")
    NATURAL = "natural", _("自然消除")


class MeasureKind(models.TextChoices):
    """帮扶措施 (assistance blocks of the national system, policy.md §6.4)."""

    INDUSTRY = "industry", _("产业帮扶")
    EMPLOYMENT = "employment", _("就业帮扶")
    PUBLIC_POST = "public_post", _("公益岗位")
    HEALTH = "health", _("健康帮扶")
    EDUCATION = "education", _("教育帮扶")
    SOCIAL_SECURITY = "social_security", _("综合保障")
    FINANCE = "finance", _("金融帮扶")
    RELOCATION = "relocation", _("搬迁")
    SOCIAL = "social", _("社会帮扶")
    OTHER = "other", _("其他")


def validate_risk_types(value: str) -> None:
    """Risk types: comma-separated codes of ``RiskType``, no repeats, at most ``monitoring.max_risk_types``."""
    if not value:
        return
    import datetime as dt

    from xiaokang.policy.services import current_parameters

    items = value.split(",")
    bad = [c for c in items if c not in RiskType.values]
    if bad:
        raise ValidationError(_("未知的风险类型代码: %(codes)s"), params={"codes": ",".join(bad)})
    if len(set(items)) != len(items):
        raise ValidationError(_("风险类型重复"))
    limit = int(current_parameters().value("monitoring.max_risk_types", dt.date.today()))
    if len(items) > limit:
        raise ValidationError(_("风险类型最多 %(n)s 项"), params={"n": limit})


class HouseholdEvent(models.Model):
    """A recorded event of a household (事件登记): medical cost, death of a labourer, new disability,
    disaster or accident, job loss. ``amount`` (元) for medical out-of-pocket costs."""

    household = models.ForeignKey("registry.Household", on_delete=models.CASCADE, related_name="events",
                                  verbose_name=_("户"))
    member = models.ForeignKey("registry.Member", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="events", verbose_name=_("家庭成员"))
    area_code = models.CharField(_("所在村代码"), max_length=12, db_index=True, editable=False)
    kind = models.CharField(_("事件类型"), max_length=20, choices=EventKind.choices)
    occurred_on = models.DateField(_("发生日期"))
    amount = MoneyField(_("金额（元）"), db_column="amount_fen", null=True, blank=True,
                        help_text=_("医疗自付费用（元）；其他事件可空"))
    source = models.CharField(_("信息来源"), max_length=60, blank=True, help_text=_("如 医保局、民政局、走访"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("登记人"))
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    area_lookup = "area_code"
    pairing_lookup = "household"
    objects = ScopedManager()
    history = HistoricalRecords(bases=[AuditChannelBase], verbose_name=_("事件登记修改记录"))

    class Meta:
        verbose_name = _("事件登记")
        verbose_name_plural = _("事件登记")
        ordering = ["-occurred_on", "-id"]
        indexes = [models.Index(fields=["occurred_on", "area_code"])]

    def __str__(self):
        return f"{self.household_id} {self.get_kind_display()} {self.occurred_on}"

    def clean(self):
        if self.member_id and self.household_id and self.member.household_id != self.household_id:
            raise ValidationError({"member": _("该成员不属于此户")})
        if self.kind == EventKind.MEDICAL_COST and self.amount is None:
            raise ValidationError({"amount": _("医疗自付费用须填写金额")})
        if self.amount is not None and self.amount < 0:
            raise ValidationError({"amount": _("金额不能为负")})

    def save(self, *args, **kwargs):
        if self.household_id and not self.area_code:
            self.area_code = self.household.area_id
        super().save(*args, **kwargs)


class WarningStatus(models.TextChoices):
    NEW = "new", _("待核实")
    VERIFIED = "verified", _("已核实")
    DISMISSED = "dismissed", _("已排除")


class EarlyWarning(models.Model):
    """An early warning (预警) computed by ``policy.rules.monitoring.warnings``: one per household, year and kind.

    ``value``/``threshold``: fen for money kinds (per-capita income 元/人·年, medical cost 元/户·年), number of
    events for event kinds. Verified by the household's area; a verified warning opens a monitoring case.
    """

    household = models.ForeignKey("registry.Household", on_delete=models.CASCADE, related_name="warnings",
                                  verbose_name=_("户"))
    area_code = models.CharField(_("所在村代码"), max_length=12, db_index=True)
    year = models.PositiveSmallIntegerField(_("年度"))
    kind = models.CharField(_("预警类型"), max_length=20, choices=list(WARNING_KIND_LABELS.items()))
    value = models.BigIntegerField(_("数值"), null=True, blank=True)
    threshold = models.BigIntegerField(_("阈值"), null=True, blank=True)
    event = models.ForeignKey(HouseholdEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                              verbose_name=_("来源事件"), db_constraint=False)
    rule_version = models.CharField(_("规则版本"), max_length=40)
    status = models.CharField(_("状态"), max_length=10, choices=WarningStatus.choices, default=WarningStatus.NEW)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("处理人"))
    decided_by_username = models.CharField(_("处理人用户名"), max_length=150, blank=True)
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    reason = models.CharField(_("排除理由"), max_length=300, blank=True)
    case = models.ForeignKey("MonitoringCase", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="warnings", verbose_name=_("监测对象"))
    created_at = models.DateTimeField(_("生成时间"))

    area_lookup = "area_code"
    pairing_lookup = "household"
    objects = ScopedManager()

    class Meta:
        db_table = "monitoring_warning"
        verbose_name = _("预警")
        verbose_name_plural = _("预警")
        ordering = ["status", "-year", "area_code", "household_id", "kind"]
        constraints = [models.UniqueConstraint(fields=["household", "year", "kind"], name="uniq_warning_household_year_kind")]
        indexes = [models.Index(fields=["year", "status", "area_code"])]

    def __str__(self):
        return f"{self.household_id} {self.year} {self.kind}"

    @property
    def kind_label(self) -> str:
        """The warning type in the page's language (``WARNING_KIND_LABELS``; the Chinese label in files)."""
        return str(WARNING_KIND_LABELS.get(self.kind, self.kind))


class MonitoringCase(models.Model):
    """A monitoring object (监测对象) and its case: identification, assistance, risk elimination.

    Never deleted: after risk elimination (风险消除) the record stays with its kind and date. A household
    without labour capacity is not marked eliminated but stays under tracking (持续跟踪, policy.md §6.5).
    """

    household = models.ForeignKey("registry.Household", on_delete=models.CASCADE, related_name="monitoring_cases",
                                  verbose_name=_("户"))
    area_code = models.CharField(_("所在村代码"), max_length=12, db_index=True, editable=False)
    category = models.CharField(_("监测对象类别"), max_length=10, choices=Category.choices)
    risk_types = models.CharField(_("致贫/返贫风险"), max_length=40, validators=[validate_risk_types],
                                  help_text=_("风险类型代码以逗号分隔，最多 5 项，如 01,07"))
    channel = models.CharField(_("发现渠道"), max_length=10, choices=Channel.choices)
    status = models.CharField(_("状态"), max_length=12, choices=CaseStatus.choices, default=CaseStatus.VERIFYING)
    opened_on = models.DateField(_("发现日期"))
    identified_on = models.DateField(_("识别监测日期"), null=True, blank=True, help_text=_("县级审定日期"))
    elimination_kind = models.CharField(_("风险消除方式"), max_length=10, choices=EliminationKind.choices, blank=True)
    eliminated_on = models.DateField(_("风险消除日期"), null=True, blank=True)
    tracking_since = models.DateField(_("转入持续跟踪日期"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("登记人"))
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    area_lookup = "area_code"
    pairing_lookup = "household"
    objects = ScopedManager()
    history = HistoricalRecords(bases=[AuditChannelBase], verbose_name=_("监测对象修改记录"))

    class Meta:
        verbose_name = _("监测对象")
        verbose_name_plural = _("监测对象")
        ordering = ["-opened_on", "-id"]
        indexes = [models.Index(fields=["status", "area_code"])]

    def __str__(self):
        return f"{self.household} {self.get_category_display()} {self.get_status_display()}"

    def save(self, *args, **kwargs):
        if self.household_id and not self.area_code:
            self.area_code = self.household.area_id
        super().save(*args, **kwargs)

    def risk_type_list(self) -> list[str]:
        return [c for c in self.risk_types.split(",") if c]

    def risk_type_labels(self) -> list[str]:
        labels = dict(RiskType.choices)
        return [str(labels.get(c, c)) for c in self.risk_type_list()]


class IncomeCheck(models.Model):
    """A per-capita income check of a monitored household (收入监测, 元/人·年), used for the ≥ six-month
    stable-income test of risk elimination (policy.md §6.5)."""

    case = models.ForeignKey(MonitoringCase, on_delete=models.CASCADE, related_name="income_checks",
                             verbose_name=_("监测对象"))
    checked_on = models.DateField(_("核查日期"))
    per_capita_income = MoneyField(_("人均纯收入（元/人·年）"), db_column="per_capita_income_fen")
    note = models.CharField(_("说明"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("登记人"))
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    area_lookup = "case__area_code"
    pairing_lookup = "case__household"
    objects = ScopedManager()
    history = HistoricalRecords(bases=[AuditChannelBase], verbose_name=_("收入核查修改记录"))

    class Meta:
        verbose_name = _("收入核查")
        verbose_name_plural = _("收入核查")
        ordering = ["case_id", "checked_on"]
        constraints = [models.UniqueConstraint(fields=["case", "checked_on"], name="uniq_income_check_case_day")]

    def __str__(self):
        return f"{self.case_id} {self.checked_on} {self.per_capita_income}"


class CaseMeasure(models.Model):
    """An assistance measure (帮扶措施) linked to a monitoring case."""

    case = models.ForeignKey(MonitoringCase, on_delete=models.CASCADE, related_name="measures",
                             verbose_name=_("监测对象"))
    kind = models.CharField(_("措施类型"), max_length=20, choices=MeasureKind.choices)
    description = models.CharField(_("措施内容"), max_length=300)
    started_on = models.DateField(_("开始日期"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("登记人"))
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    area_lookup = "case__area_code"
    pairing_lookup = "case__household"
    objects = ScopedManager()
    history = HistoricalRecords(bases=[AuditChannelBase], verbose_name=_("帮扶措施修改记录"))

    class Meta:
        verbose_name = _("帮扶措施")
        verbose_name_plural = _("帮扶措施")
        ordering = ["case_id", "started_on", "id"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.description[:20]}"


class ConsolidationClass(models.Model):
    """A household's post-exit consolidation class for one year (巩固分类), computed by
    ``policy.rules.monitoring.consolidation_classes`` (rule as parameters: no national definition, §7)."""

    household = models.ForeignKey("registry.Household", on_delete=models.CASCADE, related_name="consolidation_classes",
                                  verbose_name=_("户"))
    area_code = models.CharField(_("所在村代码"), max_length=12)
    year = models.PositiveSmallIntegerField(_("年度"))
    klass = models.CharField(_("巩固分类"), max_length=12, choices=list(CLASSES.items()))
    per_capita_income = MoneyField(_("人均纯收入（元/人·年）"), db_column="per_capita_income_fen", null=True)
    monitoring_range = MoneyField(_("监测范围（元/人·年）"), db_column="range_fen")
    open_case = models.BooleanField(_("有未消除的监测记录"))
    warned = models.BooleanField(_("当年有预警"))
    rule_version = models.CharField(_("规则版本"), max_length=40)
    assessed_at = models.DateTimeField(_("计算时间"))

    area_lookup = "area_code"
    pairing_lookup = "household"
    objects = ScopedManager()

    class Meta:
        verbose_name = _("巩固分类")
        verbose_name_plural = _("巩固分类")
        constraints = [models.UniqueConstraint(fields=["household", "year"], name="uniq_consolidation_household_year")]
        indexes = [models.Index(fields=["year", "area_code"])]

    def __str__(self):
        return f"{self.household_id} {self.year} {self.klass}"
