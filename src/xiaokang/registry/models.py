"""The 建档立卡 registry (一户一档): households, members and yearly income.

Fields follow the national collection form (贫困户信息采集表), ../shared/reference/policy.md §2 and §5.
Money is stored as integer fen (``MoneyField``); net income and per-capita net income are derived by
the rules (``xiaokang.policy.rules.household``), never stored twice.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from simple_history.models import HistoricalRecords

from xiaokang.core.audit import AuditChannelBase, Channel
from xiaokang.core.money import MoneyField
from xiaokang.core.scoping import ScopedManager

from . import codes
from .idnumber import validate_id_number


def validate_other_causes(value: str) -> None:
    """Other causes: comma-separated cause codes, each from the 11-code list, no repeats."""
    if not value:
        return
    items = value.split(",")
    valid = set(codes.PovertyCause.values)
    bad = [c for c in items if c not in valid]
    if bad:
        raise ValidationError(_("未知的致贫原因代码: %(codes)s"), params={"codes": ",".join(bad)})
    if len(set(items)) != len(items):
        raise ValidationError(_("其他致贫原因重复"))


# Kept so that ``services.update_household`` (a conditional UPDATE, no save()) can write the history row.
# The history tables are written for every created or changed row (an import of a million households writes
# 4.3 million history rows) and read by record id (``id``) and household (``household``) only: the copied
# indexes on 户编号, 区划 and 证件号码 (and their LIKE twins) are left out, and the user of a history row is not
# a database-checked foreign key (one check per row at commit; users are deactivated, never deleted, and the
# user name is shown from the row's user id).
# history_id is a bigint: an import of 1,000,000 households writes ~4.3 million history rows, so a 4-byte
# key (2,147,483,647) would run out after a few hundred full imports of a large province.
HISTORY_OPTIONS = {"bases": [AuditChannelBase], "user_db_constraint": False,
                   "history_id_field": models.BigAutoField(primary_key=True)}
HOUSEHOLD_HISTORY = HistoricalRecords(**HISTORY_OPTIONS, no_db_index=["household_number", "area"],
                                      verbose_name=_("贫困户修改记录"))


class Household(models.Model):
    """A registered household (建档立卡户). ``area`` is its village (12-digit code)."""

    household_number = models.CharField(_("户编号"), max_length=32, unique=True)
    area = models.ForeignKey("areas.Area", to_field="code", db_column="area_code", on_delete=models.PROTECT,
                             related_name="households", verbose_name=_("所在村"))
    natural_village = models.CharField(_("自然村（组）"), max_length=64, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    household_type = models.CharField(_("贫困户属性"), max_length=2, choices=codes.HouseholdType.choices,
                                      default=codes.HouseholdType.ORDINARY)
    identification_standard = models.CharField(_("识别标准"), max_length=12,
                                               choices=codes.IdentificationStandard.choices,
                                               default=codes.IdentificationStandard.NATIONAL)
    main_cause = models.CharField(_("主要致贫原因"), max_length=2, choices=codes.PovertyCause.choices)
    other_causes = models.CharField(_("其他致贫原因"), max_length=40, blank=True,
                                    validators=[validate_other_causes],
                                    help_text=_("代码以逗号分隔，如 03,07；不得与主要致贫原因重复"))
    identified_year = models.PositiveSmallIntegerField(_("识别年度"))
    poverty_status = models.CharField(_("脱贫属性"), max_length=10, choices=codes.PovertyStatus.choices,
                                      default=codes.PovertyStatus.POOR)
    exit_year = models.PositiveSmallIntegerField(_("脱贫年度"), null=True, blank=True)
    return_year = models.PositiveSmallIntegerField(_("返贫年度"), null=True, blank=True)
    # Housing (住房)
    housing_grade = models.CharField(_("住房安全等级"), max_length=1, choices=codes.HousingGrade.choices,
                                     blank=True)
    housing_renovated_year = models.PositiveSmallIntegerField(_("危房改造（或搬迁入住）年度"), null=True, blank=True)
    housing_area_m2 = models.DecimalField(_("住房面积（平方米）"), max_digits=7, decimal_places=1, null=True,
                                          blank=True)
    # Drinking water (饮水安全: 水量、水质、用水方便程度、供水保证率)
    water_scarce_area = models.BooleanField(_("缺水地区"), default=False)
    water_quantity_lpd = models.PositiveSmallIntegerField(_("人均日供水量（升）"), null=True, blank=True)
    water_quality_ok = models.BooleanField(_("水质达标"), null=True, blank=True)
    water_piped = models.BooleanField(_("自来水入户"), null=True, blank=True)
    water_fetch_minutes = models.PositiveSmallIntegerField(_("单次取水往返时间（分钟）"), null=True, blank=True)
    water_fetch_distance_m = models.PositiveIntegerField(_("取水水平距离（米）"), null=True, blank=True)
    water_fetch_vertical_m = models.PositiveIntegerField(_("取水垂直距离（米）"), null=True, blank=True)
    water_outage_days = models.PositiveSmallIntegerField(_("年断水及供水不足天数"), null=True, blank=True)
    # Food and clothing (两不愁), as verified on the visit
    food_secure = models.BooleanField(_("不愁吃"), null=True, blank=True)
    clothing_secure = models.BooleanField(_("不愁穿"), null=True, blank=True)
    # Land and production (土地与生产条件, 亩)
    farmland_mu = models.DecimalField(_("耕地面积（亩）"), max_digits=8, decimal_places=2, null=True, blank=True)
    irrigated_mu = models.DecimalField(_("有效灌溉面积（亩）"), max_digits=8, decimal_places=2, null=True,
                                       blank=True)
    forest_mu = models.DecimalField(_("林地面积（亩）"), max_digits=8, decimal_places=2, null=True, blank=True)
    cooperative_member = models.BooleanField(_("加入农民专业合作社"), default=False)
    road_distance_km = models.DecimalField(_("与村主干路距离（公里）"), max_digits=6, decimal_places=2,
                                           null=True, blank=True)
    pairing_cadre = models.CharField(_("帮扶责任人"), max_length=64, blank=True)
    is_demo = models.BooleanField(_("示例数据"), default=False)
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_at = models.DateTimeField(_("建档时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    area_lookup = "area__code"
    pairing_lookup = "pk"
    objects = ScopedManager()
    history = HOUSEHOLD_HISTORY

    class Meta:
        verbose_name = _("贫困户")
        verbose_name_plural = _("贫困户")
        ordering = ["household_number"]
        indexes = [
            models.Index(fields=["area", "poverty_status"]),
            models.Index(fields=["identified_year"]),
        ]

    def __str__(self):
        return self.household_number

    def save(self, *args, **kwargs):
        # Any save of an existing household (admin, scripts) moves the version on, so that a web edit
        # opened before it gets a conflict (services.update_household) instead of overwriting it.
        moved = False
        if not self._state.adding and self.pk is not None:
            self.version = (self.version or 0) + 1
            before = type(self)._base_manager.filter(pk=self.pk).values_list("area_id", flat=True).first()
            moved = before is not None and before != self.area_id
        super().save(*args, **kwargs)
        if moved:  # its findings, cases, warnings, workflows… carry its village code: they move with it
            from .area_follow import follow_household_area

            follow_household_area([self.pk])

    def clean(self):
        if self.other_causes and self.main_cause and self.main_cause in self.other_causes.split(","):
            raise ValidationError({"other_causes": _("其他致贫原因不得与主要致贫原因重复")})
        if self.exit_year and self.exit_year < self.identified_year:
            raise ValidationError({"exit_year": _("脱贫年度早于识别年度")})

    @property
    def head(self):
        return next((m for m in self.members.all() if m.relation == codes.Relation.HEAD), None)

    def other_cause_labels(self) -> list[str]:
        """The other causes' labels in the active language (plain strings)."""
        labels = dict(codes.PovertyCause.choices)
        return [str(labels.get(c, c)) for c in self.other_causes.split(",") if c]


class Member(models.Model):
    """A household member (家庭成员). ``entered_on``/``left_on`` bound membership (人员变更).

    A member counts for a year when born, entered (or present since the record began) on or before
    31 December and not left by then; the rules count members at year end (年底家庭人口数).
    """

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="members",
                                  verbose_name=_("户"))
    name = models.CharField(_("姓名"), max_length=64)
    document_type = models.CharField(_("证件类型"), max_length=10, choices=codes.DocumentType.choices,
                                     default=codes.DocumentType.RESIDENT_ID)
    id_number = models.CharField(_("证件号码"), max_length=32, unique=True)
    sex = models.CharField(_("性别"), max_length=1, choices=codes.Sex.choices)
    birth_date = models.DateField(_("出生日期"))
    relation = models.CharField(_("与户主关系"), max_length=2, choices=codes.Relation.choices)
    ethnicity = models.CharField(_("民族"), max_length=2, choices=codes.Ethnicity.choices, default="01")
    education_level = models.CharField(_("文化程度"), max_length=1, choices=codes.EducationLevel.choices,
                                       blank=True)
    schooling_status = models.CharField(_("在校生状况"), max_length=2, choices=codes.SchoolingStatus.choices,
                                        blank=True)
    not_attending_reason = models.CharField(_("义务教育阶段未上学原因"), max_length=1,
                                            choices=codes.NotAttendingReason.choices, blank=True)
    health_status = models.CharField(_("健康状况"), max_length=1, choices=codes.HealthStatus.choices,
                                     blank=True)
    disability_grade = models.CharField(_("残疾等级"), max_length=1, choices=codes.DisabilityGrade.choices,
                                        blank=True)
    labour_capacity = models.CharField(_("劳动技能"), max_length=1, choices=codes.LabourCapacity.choices,
                                       blank=True)
    work_months = models.PositiveSmallIntegerField(_("务工时间（月）"), null=True, blank=True)
    work_place = models.CharField(_("务工所在地"), max_length=1, choices=codes.WorkPlace.choices, blank=True)
    basic_medical_insurance = models.BooleanField(_("参加基本医疗保险"), null=True, blank=True)
    serious_illness_insurance = models.BooleanField(_("参加大病保险"), null=True, blank=True)
    medical_aid = models.BooleanField(_("享受医疗救助"), default=False)
    pension_insurance = models.BooleanField(_("参加城乡居民基本养老保险"), default=False)
    on_dibao = models.BooleanField(_("享受低保"), default=False)
    is_tekun = models.BooleanField(_("特困供养人员"), default=False)
    entered_on = models.DateField(_("迁入（新增）日期"), null=True, blank=True)
    entry_reason = models.CharField(_("新增原因"), max_length=12, choices=codes.MemberChange.choices, blank=True)
    left_on = models.DateField(_("迁出（减少）日期"), null=True, blank=True)
    leave_reason = models.CharField(_("减少原因"), max_length=12, choices=codes.MemberChange.choices, blank=True)

    area_lookup = "household__area__code"
    pairing_lookup = "household"
    objects = ScopedManager()
    history = HistoricalRecords(**HISTORY_OPTIONS, no_db_index=["id_number"], verbose_name=_("家庭成员修改记录"))

    class Meta:
        verbose_name = _("家庭成员")
        verbose_name_plural = _("家庭成员")
        ordering = ["household_id", "relation", "birth_date"]
        indexes = [models.Index(fields=["household", "relation"])]

    def __str__(self):
        return self.name

    def clean(self):
        if self.document_type == codes.DocumentType.RESIDENT_ID and self.id_number:
            check = validate_id_number(self.id_number)
            if not check.valid:
                raise ValidationError({"id_number": check.error})
            self.id_number = check.normalized
            if self.birth_date and self.birth_date != check.birth_date:
                raise ValidationError({"birth_date": _("出生日期与证件号码不一致")})
            if self.sex and self.sex != check.sex:
                raise ValidationError({"sex": _("性别与证件号码不一致")})
            self.birth_date, self.sex = check.birth_date, check.sex
        if self.work_months is not None and self.work_months > 12:
            raise ValidationError({"work_months": _("务工时间应在 0–12 个月之间")})
        if self.left_on and self.entered_on and self.left_on < self.entered_on:
            raise ValidationError({"left_on": _("减少日期早于新增日期")})

    def age_on(self, on) -> int:
        """Full years of age on a date."""
        b = self.birth_date
        return on.year - b.year - ((on.month, on.day) < (b.month, b.day))


class Income(models.Model):
    """A household's income for one year (年度收入, 元), components of the national form (policy.md §2.1).

    Net income = wage + business − business expenses + property + transfers (counted items); it and the
    per-capita figure are derived by the rules, never stored.
    """

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="incomes",
                                  verbose_name=_("户"))
    year = models.PositiveSmallIntegerField(_("年度"))
    wage = MoneyField(_("工资性收入（含公益性岗位）"), db_column="wage_fen", default=0)
    public_welfare_post = MoneyField(_("其中：公益性岗位收入"), db_column="public_welfare_post_fen", default=0)
    business_income = MoneyField(_("生产经营性收入"), db_column="business_income_fen", default=0)
    business_expenses = MoneyField(_("生产经营性支出"), db_column="business_expenses_fen", default=0)
    property_income = MoneyField(_("财产性收入（含资产收益分红）"), db_column="property_income_fen", default=0)
    asset_dividend = MoneyField(_("其中：资产收益扶贫分红"), db_column="asset_dividend_fen", default=0)
    family_planning = MoneyField(_("计划生育金"), db_column="family_planning_fen", default=0)
    dibao = MoneyField(_("最低生活保障金"), db_column="dibao_fen", default=0)
    tekun = MoneyField(_("特困人员救助供养金"), db_column="tekun_fen", default=0)
    pension = MoneyField(_("养老金或离退休金"), db_column="pension_fen", default=0)
    ecological = MoneyField(_("生态补偿金"), db_column="ecological_fen", default=0)
    other_transfer = MoneyField(_("其他转移性收入"), db_column="other_transfer_fen", default=0)

    area_lookup = "household__area__code"
    pairing_lookup = "household"
    objects = ScopedManager()
    history = HistoricalRecords(**HISTORY_OPTIONS, verbose_name=_("年度收入修改记录"))

    class Meta:
        verbose_name = _("年度收入")
        verbose_name_plural = _("年度收入")
        ordering = ["household_id", "year"]
        constraints = [models.UniqueConstraint(fields=["household", "year"], name="uniq_income_household_year")]

    def __str__(self):
        return f"{self.household_id} {self.year}"

    def clean(self):
        if self.public_welfare_post and self.wage is not None and self.public_welfare_post > self.wage:
            raise ValidationError({"public_welfare_post": _("公益性岗位收入不能大于工资性收入")})
        if self.asset_dividend and self.property_income is not None and self.asset_dividend > self.property_income:
            raise ValidationError({"asset_dividend": _("资产收益分红不能大于财产性收入")})

    @property
    def transfer_total(self):
        return self.family_planning + self.dibao + self.tekun + self.pension + self.ecological + self.other_transfer


class FullIdView(models.Model):
    """One display of a full ID number or phone number (查看完整证件号码、联系电话留痕): who, when, which
    member (ID number) or household (phone), which field."""

    FIELDS = [("id_number", _("证件号码")), ("phone", _("联系电话"))]

    field = models.CharField(_("查看内容"), max_length=16, choices=FIELDS, default="id_number")
    user = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+",
                             verbose_name=_("用户"))
    username = models.CharField(_("用户名"), max_length=150)
    member = models.ForeignKey(Member, null=True, on_delete=models.SET_NULL, related_name="+",
                               verbose_name=_("家庭成员"))
    household = models.ForeignKey(Household, null=True, on_delete=models.SET_NULL, related_name="+",
                                  verbose_name=_("户"))
    area_code = models.CharField(_("所在村代码"), max_length=12)
    viewed_at = models.DateTimeField(_("查看时间"), auto_now_add=True)
    ip_address = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)

    area_lookup = "area_code"
    pairing_lookup = "household"
    objects = ScopedManager()

    class Meta:
        verbose_name = _("完整号码查看记录")
        verbose_name_plural = _("完整号码查看记录")
        ordering = ["-viewed_at"]

    def __str__(self):
        return f"{self.username} {self.member_id} {self.viewed_at:%Y-%m-%d %H:%M}"


class Pairing(models.Model):
    """One cadre–household pairing (帮扶结对): a pairing cadre (帮扶责任人, a user of role ``pairing_cadre``)
    paired with a household from ``started_on`` until ``ended_on`` (blank: current). A pairing cadre reads,
    within their area, only the households of their current pairings, with their members, incomes,
    assessments, findings and monitoring records (``core.scoping.paired_only``). ``Household.pairing_cadre``
    keeps the cadre's name as the collection form writes it; this is the link the access control uses.
    Managed in the admin by the area's administrators."""

    cadre = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="pairings",
                              limit_choices_to={"role": "pairing_cadre"}, verbose_name=_("帮扶责任人"))
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="pairings",
                                  verbose_name=_("户"))
    started_on = models.DateField(_("结对日期"))
    ended_on = models.DateField(_("结束日期"), null=True, blank=True, help_text=_("空：结对中"))

    area_lookup = "household__area__code"
    pairing_lookup = "household"
    objects = ScopedManager()
    # who paired whom, and who ended it: a pairing opens a household's file to a cadre (the access control)
    history = HistoricalRecords(**HISTORY_OPTIONS, verbose_name=_("帮扶结对修改记录"))

    class Meta:
        verbose_name = _("帮扶结对")
        verbose_name_plural = _("帮扶结对")
        ordering = ["household_id", "-started_on"]
        constraints = [
            models.UniqueConstraint(fields=["cadre", "household"], condition=models.Q(ended_on__isnull=True),
                                    name="uniq_current_pairing"),
        ]

    def __str__(self):
        return f"{self.cadre} — {self.household}"

    def clean(self):
        if self.cadre_id and getattr(self.cadre, "role", None) != "pairing_cadre":
            raise ValidationError({"cadre": _("只能选择角色为帮扶责任人的用户")})
        if self.cadre_id and self.household_id:
            # a cadre reads only within their own area: a household outside it would be a pairing that
            # gives nothing (and shows another area's cadre in that area's admin)
            own = self.cadre.area_id or ""
            if not own or not (self.household.area_id or "").startswith(own):
                raise ValidationError({"household": _("该户不在此帮扶责任人的区域（%(area)s）内") % {"area": own or "—"}})
            current = Pairing._base_manager.filter(cadre_id=self.cadre_id, household_id=self.household_id,
                                                   ended_on__isnull=True).exclude(pk=self.pk)
            if self.ended_on is None and current.exists():
                raise ValidationError(_("该户与此帮扶责任人已有进行中的结对（未填结束日期）；请先结束原结对"))
        if self.ended_on and self.started_on and self.ended_on < self.started_on:
            raise ValidationError({"ended_on": _("结束日期早于结对日期")})


class VisitMode(models.TextChoices):
    """How a pairing cadre reached the household (走访方式)."""

    HOME = "home", _("入户走访")
    PHONE = "phone", _("电话或视频联系")
    OTHER = "other", _("其他（集中座谈、田间地头等）")


class Visit(models.Model):
    """A pairing cadre's visit to a paired household (帮扶走访记录): when, how, what the cadre found (走访情况),
    what the household needs or asks for (困难与诉求) and what the cadre will do (帮扶措施与下步打算).

    Recorded by the cadre of a pairing that covers the visit date and is current (``services.record_visit``,
    the household page, ``POST /api/v1/households/<id>/visits/``), and never changed or deleted through the
    application: the record is the log (a correction is a new record). Read like the household's file: within
    the area, and by a pairing cadre for the households of their current pairings (the visits of earlier
    cadres included)."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="visits", verbose_name=_("户"))
    cadre = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="visits",
                              verbose_name=_("帮扶责任人"))
    visited_on = models.DateField(_("走访日期"))
    mode = models.CharField(_("走访方式"), max_length=8, choices=VisitMode.choices, default=VisitMode.HOME)
    situation = models.TextField(_("走访情况"), max_length=1000)
    needs = models.CharField(_("困难与诉求"), max_length=500, blank=True)
    measures = models.CharField(_("帮扶措施与下步打算"), max_length=500, blank=True)
    channel = models.CharField(_("登记渠道"), max_length=10, choices=Channel.choices, default=Channel.WEB)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    area_lookup = "household__area__code"
    pairing_lookup = "household"
    objects = ScopedManager()

    class Meta:
        verbose_name = _("帮扶走访记录")
        verbose_name_plural = _("帮扶走访记录")
        ordering = ["-visited_on", "-id"]
        indexes = [models.Index(fields=["household", "visited_on"]), models.Index(fields=["cadre", "visited_on"]),
                   models.Index(fields=["visited_on"])]

    def __str__(self):
        return f"{self.household} {self.visited_on:%Y-%m-%d} {self.get_mode_display()}"
