from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from xiaokang.core.admin import ReadOnlyScopedModelAdmin

from .models import COMMAND_LINE_PREFIX, ExportLog, ImportBatch


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyScopedModelAdmin):
    list_display = ("file_name", "status", "uploader", "area_code", "households_new", "households_changed",
                    "error_count", "created_at", "applied_at", "ended_at")
    list_filter = ("status", "partial")
    search_fields = ("file_name", "username", "sha256")

    @admin.display(description=_("上传人"), ordering="username")
    def uploader(self, obj):
        return obj.uploader_label


@admin.register(ExportLog)
class ExportLogAdmin(ReadOnlyScopedModelAdmin):
    list_display = ("who", "what", "area_code", "rows", "full_ids", "channel_label", "created_at")

    # what was downloaded (``filters["export"]``, written by ``core.tables``); a registry export has none
    EXPORT_KINDS = {"visits": _("走访台账"), "supervision_problems": _("督查问题台账"),
                    "quality_findings": _("疑点数据"), "quality_counts": _("疑点统计")}

    @admin.display(description=_("导出内容"))
    def what(self, obj):
        filters = obj.filters or {}
        if "error_report" in filters:
            return _("导入错误工作簿")
        kind = filters.get("export")
        return self.EXPORT_KINDS.get(kind, kind) if kind else _("贫困户信息（采集表格式）")

    @admin.display(description=_("用户名"), ordering="username")
    def who(self, obj):
        """As the batch pages show it: a command-line export without a user as "<login>（命令行）"."""
        if obj.username.startswith(COMMAND_LINE_PREFIX):
            return _("%(login)s（命令行）") % {"login": obj.username[len(COMMAND_LINE_PREFIX):]}
        return obj.username or "—"

    @admin.display(description=_("渠道"), ordering="channel")
    def channel_label(self, obj):
        from xiaokang.core.audit import Channel

        return dict(Channel.choices).get(obj.channel, obj.channel)
    list_filter = ("full_ids", "channel")
    search_fields = ("username",)
