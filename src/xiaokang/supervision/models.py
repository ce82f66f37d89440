"""Supervision problems (督查问题): what an inspector (督查员) finds on a covert or open inspection, assigned to
the area for rectification with a deadline, rectified by the area's administrators, revisited by an inspector
and closed (销号) — or sent back when the revisit finds it not fixed.

    交办 (assigned, with a deadline) → 整改 (rectified: what was done) → 回访 (revisit) → 销号 (closed)
                                           ↖———— 回访未通过 (sent back) ————┘

The categories follow the taxonomy of ../shared/reference/next-modules.md §2.4 (识别/退出, 两不愁三保障, 数据
不准, 帮扶不实, 政策不熟/作风, 资金/项目); the ways problems are found, §2.1–2.2 (暗访督查 "四不两直", open
inspection, public complaints such as the 12317 hotline). Services: ``xiaokang.supervision.services``.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from xiaokang.core.audit import AuditChannelBase
from xiaokang.core.scoping import ScopedManager


class Category(models.TextChoices):
    IDENTIFICATION = "identification", _("识别/退出")
    BASIC_NEEDS = "basic_needs", _("两不愁三保障")
    DATA = "data", _("数据不准")
    ASSISTANCE = "assistance", _("帮扶不实")
    CONDUCT = "conduct", _("政策不熟/作风")
    FUNDS = "funds", _("资金/项目")


class Source(models.TextChoices):
    COVERT = "covert", _("暗访督查")
    OPEN = "open", _("明查检查")
    COMPLAINT = "complaint", _("群众反映（如 12317 热线）")
    OTHER = "other", _("其他")


class Status(models.TextChoices):
    ASSIGNED = "assigned", _("待整改")
    RECTIFIED = "rectified", _("已整改待回访")
    CLOSED = "closed", _("已销号")


class Problem(models.Model):
    """One problem found by supervision (督查问题): where (a village, town or county code; and the household
    when it concerns one), what (category, description), how and when it was found, the deadline for
    rectification (整改期限), and its course: rectified (整改情况, by whom, when), revisited and closed or sent
    back (回访情况, by whom, when). Every change keeps a history row (who, when, channel, old and new)."""

    area_code = models.CharField(_("所在区划代码"), max_length=12, db_index=True)
    household = models.ForeignKey("registry.Household", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="supervision_problems", verbose_name=_("户"))
    category = models.CharField(_("问题类别"), max_length=20, choices=Category.choices)
    source = models.CharField(_("发现方式"), max_length=12, choices=Source.choices, default=Source.COVERT)
    description = models.TextField(_("问题描述"), max_length=1000)
    found_on = models.DateField(_("发现日期"))
    deadline = models.DateField(_("整改期限"))
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.ASSIGNED)
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("督查员"))
    rectification = models.TextField(_("整改情况"), max_length=1000, blank=True)
    rectified_on = models.DateField(_("整改完成日期"), null=True, blank=True)
    rectified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("整改填报人"))
    revisit = models.TextField(_("回访情况"), max_length=1000, blank=True)
    revisited_on = models.DateField(_("回访日期"), null=True, blank=True)
    revisited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("回访人"))
    sent_back = models.PositiveSmallIntegerField(_("回访未通过次数"), default=0)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    area_lookup = "area_code"
    pairing_lookup = "household"  # a pairing cadre reads the problems of their paired households
    objects = ScopedManager()
    history = HistoricalRecords(bases=[AuditChannelBase], user_db_constraint=False,
                                verbose_name=_("督查问题修改记录"))

    class Meta:
        verbose_name = _("督查问题")
        verbose_name_plural = _("督查问题")
        ordering = ["-found_on", "-id"]
        indexes = [models.Index(fields=["area_code", "status"]), models.Index(fields=["status", "deadline"])]

    def __str__(self):
        return f"{self.get_category_display()} {self.area_code} {self.found_on:%Y-%m-%d}"

    @property
    def revisit_result(self) -> str:
        """What the recorded revisit (回访情况, 回访日期) concluded, in the problem's present state: 通过 (closed),
        未通过，退回整改 (sent back and not rectified again yet), 上次回访未通过 (rectified again since: the revisit
        shown is the earlier one), or "" (no revisit yet)."""
        if not self.revisited_on:
            return ""
        if self.status == Status.CLOSED:
            return _("通过，销号")
        if self.status == Status.ASSIGNED:
            return _("未通过，退回整改")
        return _("上次回访未通过")
