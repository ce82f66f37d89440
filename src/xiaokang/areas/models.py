"""Administrative divisions (行政区划): one tree of province, city, county, town and village.

Codes: province 2 digits, city 4, county 6 (GB/T 2260), town 9, village 12 (统计用区划代码).
Codes change over time (株洲县 430221 became 渌口区 430212 in 2018): both are kept, the old one with
``valid_to`` and ``successor``.
"""

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from xiaokang.core.scoping import AREA_LEVEL, ScopedManager


class Level(models.TextChoices):
    PROVINCE = "province", _("省级")
    CITY = "city", _("地级")
    COUNTY = "county", _("县级")
    TOWN = "town", _("乡级")
    VILLAGE = "village", _("村级")


CODE_LENGTH = {Level.PROVINCE: 2, Level.CITY: 4, Level.COUNTY: 6, Level.TOWN: 9, Level.VILLAGE: 12}
LEVEL_BY_LENGTH = {v: k for k, v in CODE_LENGTH.items()}
PARENT_LENGTH = {4: 2, 6: 4, 9: 6, 12: 9}


class Area(models.Model):
    """One administrative division. ``code`` is unique and is what scoped rows refer to."""

    code = models.CharField(_("区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    level = models.CharField(_("级别"), max_length=8, choices=Level.choices)
    parent = models.ForeignKey(
        "self", to_field="code", db_column="parent_code", null=True, blank=True,
        on_delete=models.PROTECT, related_name="children", verbose_name=_("上级"),
    )
    valid_from = models.DateField(_("启用日期"), null=True, blank=True)
    valid_to = models.DateField(_("停用日期"), null=True, blank=True)
    successor = models.ForeignKey(
        "self", to_field="code", db_column="successor_code", null=True, blank=True,
        on_delete=models.SET_NULL, related_name="predecessors", verbose_name=_("继承区划"),
    )
    # County attributes (县级属性)
    is_national_key_county = models.BooleanField(_("国家扶贫开发工作重点县"), default=False)
    is_contiguous_area_county = models.BooleanField(_("集中连片特困地区县"), default=False)
    is_provincial_poor_county = models.BooleanField(_("省级贫困县"), default=False)
    county_exit_year = models.PositiveSmallIntegerField(_("摘帽年度"), null=True, blank=True)
    # Village attributes (村级属性)
    is_poor_village = models.BooleanField(_("贫困村"), default=False)
    poor_village_identified_year = models.PositiveSmallIntegerField(_("贫困村识别年度"), null=True, blank=True)
    village_exit_year = models.PositiveSmallIntegerField(_("贫困村退出年度"), null=True, blank=True)
    is_demo = models.BooleanField(_("示例数据"), default=False)

    area_lookup = "code"
    pairing_lookup = AREA_LEVEL
    objects = ScopedManager()

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]
        indexes = [models.Index(fields=["level", "code"])]

    def __str__(self):
        # 炎陵县（430225）; in English 炎陵县 (430225) — the name stays Chinese, the brackets follow the language
        return gettext("%(name)s（%(code)s）") % {"name": self.name, "code": self.code}

    @property
    def is_current(self) -> bool:
        return self.valid_to is None

    def ancestors(self) -> list["Area"]:
        """Areas above this one, nearest first (by code prefix, no recursion over the ORM)."""
        codes = [self.code[:n] for n in (9, 6, 4, 2) if n < len(self.code)]
        by_code = {a.code: a for a in Area.objects.filter(code__in=codes)}
        return [by_code[c] for c in codes if c in by_code]


class AreaPopulation(models.Model):
    """Yearly population of an area (户籍人口 / 农村人口), the denominator of poverty incidence (贫困发生率)."""

    area = models.ForeignKey(Area, to_field="code", db_column="area_code", on_delete=models.CASCADE,
                             related_name="populations", verbose_name=_("区划"))
    year = models.PositiveSmallIntegerField(_("年度"))
    registered_population = models.PositiveIntegerField(_("户籍人口（人）"))
    rural_population = models.PositiveIntegerField(_("农村人口（人）"), null=True, blank=True)
    source = models.CharField(_("来源"), max_length=200, blank=True)

    area_lookup = "area__code"
    pairing_lookup = AREA_LEVEL
    objects = ScopedManager()

    class Meta:
        verbose_name = _("区划年度人口")
        verbose_name_plural = _("区划年度人口")
        constraints = [models.UniqueConstraint(fields=["area", "year"], name="uniq_area_population_year")]

    def __str__(self):
        return f"{self.area_id} {self.year}: {self.registered_population}"
