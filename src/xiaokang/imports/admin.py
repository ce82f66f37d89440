from django.contrib import admin

from xiaokang.core.admin import ReadOnlyScopedModelAdmin

from .models import ExportLog, ImportBatch


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyScopedModelAdmin):
    list_display = ("file_name", "status", "username", "area_code", "households_new", "households_changed",
                    "error_count", "created_at", "applied_at", "ended_at")
    list_filter = ("status", "partial")
    search_fields = ("file_name", "username", "sha256")


@admin.register(ExportLog)
class ExportLogAdmin(ReadOnlyScopedModelAdmin):
    list_display = ("username", "area_code", "rows", "full_ids", "channel", "created_at")
    list_filter = ("full_ids", "channel")
    search_fields = ("username",)
