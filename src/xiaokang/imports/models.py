"""Import batches (导入批次) and the export log (导出记录).

``ImportBatch``: one uploaded file on its way uploaded → validated → applying → applied (or failed),
with progress counts, the error count and the error workbook of a partial import. A batch uploaded on the
web is validated and applied by a background job (``imports.jobs``: its own process, so a large file
neither blocks nor times out a web request); ``job_phase`` names the step it is at (blank: no job
running), ``job_pid`` the process, ``job_started_at`` when it started. The status moves
with conditional UPDATEs (``services``): a retried or double-submitted batch cannot apply twice, and
a file whose content (sha256) was already applied in the same area is refused unless re-import is asked
for (it would change nothing anyway). The stored files (upload, error workbook) hold personal information
and are removed after the retention period (``imports.retention``): ``files_removed_at`` says when.

``ExportLog``: one export (who, area, filters, rows, full ID numbers or masked, channel), written by
the export (``imports.export``) and read-only in the admin.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xiaokang.core.scoping import ScopedManager


class BatchStatus(models.TextChoices):
    UPLOADED = "uploaded", _("已上传")
    VALIDATED = "validated", _("已校验")
    APPLYING = "applying", _("导入中")
    APPLIED = "applied", _("已导入")
    FAILED = "failed", _("失败")


class ImportBatch(models.Model):
    """One import of one file (导入批次). ``area_code`` is the uploader's area; a batch of an uploader without
    one (``unrestricted``: a superuser, or the command line without ``--user``/``--area``) is filed under the
    smallest area holding the file's households once validated, but checked against no area."""

    file_name = models.CharField(_("文件名"), max_length=255)
    file_path = models.CharField(_("文件存放路径"), max_length=500, blank=True)
    sha256 = models.CharField(_("文件 SHA-256"), max_length=64, db_index=True)
    size_bytes = models.BigIntegerField(_("文件大小（字节）"), default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("上传人"))
    username = models.CharField(_("用户名"), max_length=150, blank=True)
    area_code = models.CharField(_("区域代码"), max_length=12, blank=True)
    unrestricted = models.BooleanField(
        _("不限区域"), default=False,
        help_text=_("上传人不受管辖区域限制（超级用户，或不带 --user/--area 的命令行导入）；区域代码只用于归档"))
    channel = models.CharField(_("渠道"), max_length=10, default="web")
    partial = models.BooleanField(_("部分导入"), default=False,
                                  help_text=_("导入无误的户，其余写入错误清单"))
    reimport = models.BooleanField(_("允许重复导入"), default=False)
    dry_run = models.BooleanField(_("试运行"), default=False,
                                  help_text=_("只校验并统计、不写入（命令行 --dry-run）；试运行批次不能再导入"))
    status = models.CharField(_("状态"), max_length=10, choices=BatchStatus.choices, default=BatchStatus.UPLOADED,
                              db_index=True)
    message = models.TextField(_("说明"), blank=True)
    rows_total = models.PositiveIntegerField(_("数据行数"), default=0)
    rows_done = models.PositiveIntegerField(_("已处理行数"), default=0)
    households_total = models.PositiveIntegerField(_("户数"), default=0)
    households_new = models.PositiveIntegerField(_("新增户"), default=0)
    households_changed = models.PositiveIntegerField(_("修改户"), default=0)
    households_unchanged = models.PositiveIntegerField(_("未变户"), default=0)
    members_new = models.PositiveIntegerField(_("新增成员"), default=0)
    members_changed = models.PositiveIntegerField(_("修改成员"), default=0)
    members_unchanged = models.PositiveIntegerField(_("未变成员"), default=0)
    incomes_new = models.PositiveIntegerField(_("新增收入记录"), default=0)
    incomes_changed = models.PositiveIntegerField(_("修改收入记录"), default=0)
    households_rejected = models.PositiveIntegerField(_("未导入户"), default=0)
    error_count = models.PositiveIntegerField(_("错误数"), default=0)
    errors = models.JSONField(_("错误（前 1000 条）"), default=list, blank=True)
    notes = models.JSONField(_("提示"), default=list, blank=True,
                             help_text=_("不阻止导入的提示，如文件中未列出的原有成员"))
    error_report_path = models.CharField(_("错误清单文件"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    validated_at = models.DateTimeField(_("校验时间"), null=True, blank=True)
    job_phase = models.CharField(_("后台任务步骤"), max_length=20, blank=True,
                                 help_text=_("正在进行的后台步骤（校验、导入）；空：没有运行中的后台任务"))
    job_pid = models.IntegerField(_("后台任务进程号"), null=True, blank=True)
    job_started_at = models.DateTimeField(_("后台任务开始时间"), null=True, blank=True)
    applied_at = models.DateTimeField(_("导入时间"), null=True, blank=True)
    ended_at = models.DateTimeField(
        _("结束时间"), null=True, blank=True,
        help_text=_("批次结束（已导入、失败，或试运行完成）的时间；保存期限从此时算起"))
    files_removed_at = models.DateTimeField(
        _("文件删除时间"), null=True, blank=True,
        help_text=_("上传文件和错误清单按保存期限删除的时间（xiaokang imports purge）；空：未删除"))

    area_lookup = "area_code"
    objects = ScopedManager()

    class Meta:
        verbose_name = _("导入批次")
        verbose_name_plural = _("导入批次")
        ordering = ["-created_at", "-id"]
        constraints = [
            # At most one batch per content and area is ever applied (the double-apply guard; a forced
            # re-import marks itself reimport=True and is outside this constraint).
            models.UniqueConstraint(fields=["sha256", "area_code"],
                                    condition=models.Q(status="applied", reimport=False),
                                    name="uniq_import_applied_content_area"),
        ]

    def __str__(self):
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def uploader_label(self) -> str:
        """Who uploaded it, for the pages: the user name, or for a command-line import without ``--user``
        the operating-system login (stored as ``命令行:<login>``) as "<login>（命令行）" in the page's language."""
        if self.username.startswith(COMMAND_LINE_PREFIX):
            return _("%(login)s（命令行）") % {"login": self.username[len(COMMAND_LINE_PREFIX):]}
        return self.username or "—"

    @property
    def rows_label(self) -> str:
        """The data rows for the pages: the file's rows once read; while a job reads it, the rows read so
        far; for a validation broken off, the rows it had read."""
        if self.job_phase:
            return _("已读取 %(n)s 行……") % {"n": f"{self.rows_done:,}"}
        if self.rows_total:
            return f"{self.rows_total:,}"
        if self.rows_done:
            return _("已读取 %(n)s 行（未完成）") % {"n": f"{self.rows_done:,}"}
        return "—"


# How a command-line batch without an application user stores its operating-system login in ``username``.
COMMAND_LINE_PREFIX = "命令行:"


class ExportLog(models.Model):
    """One export (导出留痕): who exported what, when; ``full_ids`` when ID numbers were not masked."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", verbose_name=_("用户"))
    username = models.CharField(_("用户名"), max_length=150)
    area_code = models.CharField(_("区域代码"), max_length=12, blank=True)
    filters = models.JSONField(_("筛选条件"), default=dict, blank=True)
    rows = models.PositiveIntegerField(_("行数"), default=0)
    full_ids = models.BooleanField(_("完整证件号码"), default=False)
    channel = models.CharField(_("渠道"), max_length=10, default="web")
    created_at = models.DateTimeField(_("导出时间"), auto_now_add=True)

    area_lookup = "area_code"
    objects = ScopedManager()

    class Meta:
        verbose_name = _("导出记录")
        verbose_name_plural = _("导出记录")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.username} {self.created_at:%Y-%m-%d %H:%M} ({self.rows})"
