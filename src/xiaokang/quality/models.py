"""Data-quality findings (疑点数据): one row per rule, household and member that a check has flagged.

A finding is ``open`` (待处理) when a check finds it, ``fixed`` (已修正) when a later check no longer finds
it (set automatically), or ``confirmed`` (核实无误) when an administrator of the area has confirmed the
data is correct, with a reason. A confirmed finding stays confirmed while it still triggers; a fixed one
that triggers again is open again. Rules and messages: ``xiaokang.quality.catalogue`` (policy.md §2.4, §5.4).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xiaokang.core.scoping import ScopedManager

from . import catalogue


class FindingStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    FIXED = "fixed", _("已修正")
    CONFIRMED = "confirmed", _("核实无误")


class Finding(models.Model):
    """One flagged record (疑点): rule, household, member (null for household rules), offending value."""

    rule_code = models.CharField(_("规则"), max_length=40, help_text=_("xiaokang.quality.catalogue 中的规则代码"))
    household = models.ForeignKey("registry.Household", on_delete=models.CASCADE, related_name="quality_findings",
                                  verbose_name=_("户"))
    member = models.ForeignKey("registry.Member", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="quality_findings", verbose_name=_("成员"))
    # member id or 0: makes (rule, household, member) unique with a plain index (NULLs never collide).
    member_key = models.BigIntegerField(_("成员键"), default=0, editable=False)
    area_code = models.CharField(_("所在村代码"), max_length=12)
    value = models.CharField(_("疑点值"), max_length=200, blank=True)
    year = models.PositiveSmallIntegerField(_("检查年度"))
    status = models.CharField(_("状态"), max_length=10, choices=FindingStatus.choices, default=FindingStatus.OPEN)
    confirmed_reason = models.TextField(_("核实无误理由"), blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name=_("核实人"))
    confirmed_at = models.DateTimeField(_("核实时间"), null=True, blank=True)
    first_seen = models.DateTimeField(_("首次发现"))
    last_seen = models.DateTimeField(_("最近发现"))
    fixed_at = models.DateTimeField(_("修正时间"), null=True, blank=True)

    area_lookup = "area_code"
    pairing_lookup = "household"
    objects = ScopedManager()

    class Meta:
        verbose_name = _("疑点数据")
        verbose_name_plural = _("疑点数据")
        ordering = ["area_code", "household_id", "rule_code", "member_key"]
        constraints = [
            models.UniqueConstraint(fields=["rule_code", "household", "member_key"], name="uniq_quality_finding"),
        ]
        indexes = [
            models.Index(fields=["area_code", "status"]),
            models.Index(fields=["rule_code", "status"]),
        ]

    def __str__(self):
        return f"{self.rule_code} {self.household_id}/{self.member_id or '-'}"

    @property
    def rule(self) -> catalogue.QualityRule:
        return catalogue.get(self.rule_code)

    def message(self, lang: str = "zh") -> str:
        from .services import thresholds

        return self.rule.render(self.value, self.member.name if self.member_id else "", lang, thresholds(self.year))
