"""Approval workflows (审批流程): one instance per subject and process, and its immutable step records.

``WorkflowInstance`` points at any subject (a household, a monitoring case …) through a generic relation
and carries the subject's area code, so it is scoped like every other row (``area_lookup``,
``ScopedManager``). ``StepRecord`` is one step taken (who, when, outcome, comment, data): records are
written once and never edited or deleted (``save`` of an existing row, ``delete`` and queryset
``update``/``delete`` raise ``ImmutableRecord``). ``Objection`` is an objection raised during a public notice
(公示异议) and its resolution. ``ChangeRequest`` (变更申请) is the only way to change a locked household.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xiaokang.core.scoping import ScopedManager, ScopedQuerySet


class ImmutableRecord(Exception):
    """A step record may not be changed or deleted (审批记录不可修改、不可删除)."""


class State(models.TextChoices):
    OPEN = "open", _("办理中")
    COMPLETED = "completed", _("已办结")
    REJECTED = "rejected", _("已否决")


class Outcome(models.TextChoices):
    APPROVED = "approved", _("通过")
    REJECTED = "rejected", _("不通过")


class WorkflowInstance(models.Model):
    """One run of a process (``engine.Process``) for one subject.

    ``current_step`` is the index (0-based) of the next step to take: the number of steps approved so far.
    ``locked`` is set when a step with ``locks=True`` is approved (the subject then changes only through an
    approved change request). At most one open instance per process and subject (partial unique index).
    """

    process = models.CharField(_("流程"), max_length=40, db_index=True)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, verbose_name=_("对象类型"))
    object_id = models.PositiveBigIntegerField(_("对象编号"))
    subject = GenericForeignKey("content_type", "object_id")
    area_code = models.CharField(_("区划代码"), max_length=12, db_index=True)
    current_step = models.PositiveSmallIntegerField(_("当前步骤序号"), default=0)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.OPEN)
    locked = models.BooleanField(_("已锁定"), default=False)
    started_on = models.DateField(_("发起日期"))
    finished_on = models.DateField(_("办结日期"), null=True, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("发起人"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    area_lookup = "area_code"
    objects = ScopedManager()

    class Meta:
        verbose_name = _("审批流程")
        verbose_name_plural = _("审批流程")
        ordering = ["-id"]
        indexes = [models.Index(fields=["content_type", "object_id"])]
        constraints = [
            models.UniqueConstraint(fields=["process", "content_type", "object_id"], condition=Q(state="open"),
                                    name="workflow_one_open_instance"),
        ]

    def __str__(self):
        from .engine import get_process

        try:
            label = get_process(self.process).label
        except LookupError:
            label = self.process
        return f"{label} #{self.pk}"

    @property
    def process_def(self):
        from .engine import get_process

        return get_process(self.process)

    @property
    def next_step(self):
        """The Step to take next, or None when the instance is no longer open."""
        if self.state != State.OPEN:
            return None
        steps = self.process_def.steps
        return steps[self.current_step] if self.current_step < len(steps) else None


class StepRecordQuerySet(ScopedQuerySet):
    def update(self, **kwargs):
        raise ImmutableRecord(_("审批记录不可修改"))

    def delete(self):
        raise ImmutableRecord(_("审批记录不可删除"))


class StepRecord(models.Model):
    """One step taken in a workflow instance. Written once; never edited or deleted."""

    instance = models.ForeignKey(WorkflowInstance, on_delete=models.PROTECT, related_name="records",
                                 verbose_name=_("审批流程"))
    step = models.CharField(_("步骤"), max_length=40)
    step_index = models.PositiveSmallIntegerField(_("步骤序号"))
    outcome = models.CharField(_("结果"), max_length=10, choices=Outcome.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", verbose_name=_("办理人"))
    username = models.CharField(_("办理人用户名"), max_length=150)
    taken_on = models.DateField(_("办理日期"))
    comment = models.TextField(_("意见"), blank=True)
    data = models.JSONField(_("附加数据"), default=dict, blank=True)
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    area_lookup = "instance__area_code"
    objects = models.Manager.from_queryset(StepRecordQuerySet)()

    class Meta:
        verbose_name = _("审批记录")
        verbose_name_plural = _("审批记录")
        ordering = ["instance_id", "step_index", "id"]
        constraints = [
            models.UniqueConstraint(fields=["instance", "step_index"], name="workflow_one_record_per_step"),
        ]

    def __str__(self):
        return f"{self.instance_id}/{self.step} {self.get_outcome_display()}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ImmutableRecord(_("审批记录不可修改"))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableRecord(_("审批记录不可删除"))


class Objection(models.Model):
    """An objection raised during a public notice (公示期间的异议) and how it was resolved.

    An unresolved objection blocks the step after the notice (policy.md §3.3: 公示无异议)."""

    instance = models.ForeignKey(WorkflowInstance, on_delete=models.PROTECT, related_name="objections",
                                 verbose_name=_("审批流程"))
    text = models.TextField(_("异议内容"))
    raised_on = models.DateField(_("提出日期"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("登记人"))
    recorded_by_username = models.CharField(_("登记人用户名"), max_length=150)
    resolution = models.TextField(_("处理结果"), blank=True)
    resolved_on = models.DateField(_("处理日期"), null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("处理人"))
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    area_lookup = "instance__area_code"
    objects = ScopedManager()

    class Meta:
        verbose_name = _("公示异议")
        verbose_name_plural = _("公示异议")
        ordering = ["instance_id", "id"]

    def __str__(self):
        return self.text[:30]

    @property
    def resolved(self) -> bool:
        return self.resolved_on is not None


class ChangeRequest(models.Model):
    """A request to change a (locked) household (变更申请): field name -> new value, applied on approval
    through ``registry.services.update_household`` (with history). Created by a village or town
    administrator, decided by a county administrator of the area."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("已驳回")

    household = models.ForeignKey("registry.Household", on_delete=models.CASCADE, related_name="change_requests",
                                  verbose_name=_("贫困户"))
    area_code = models.CharField(_("区划代码"), max_length=12, db_index=True)
    changes = models.JSONField(_("变更内容"), default=dict)
    reason = models.TextField(_("变更理由"))
    base_version = models.PositiveIntegerField(_("申请时版本"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name=_("申请人"))
    requested_by_username = models.CharField(_("申请人用户名"), max_length=150)
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("审批人"))
    decided_by_username = models.CharField(_("审批人用户名"), max_length=150, blank=True)
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_comment = models.TextField(_("审批意见"), blank=True)

    area_lookup = "area_code"
    objects = ScopedManager()

    class Meta:
        verbose_name = _("变更申请")
        verbose_name_plural = _("变更申请")
        ordering = ["-id"]

    def __str__(self):
        return f"{self.household_id} {self.get_status_display()}"
