"""Admin of the workflow models: instances, objections and change requests are read-only in the admin (they
change only through the engine and the services); step records are never changed or deleted."""

from django.contrib import admin

from xiaokang.core.admin import ReadOnlyScopedModelAdmin

from .models import ChangeRequest, Objection, StepRecord, WorkflowInstance


class StepRecordInline(admin.TabularInline):
    model = StepRecord
    extra = 0
    can_delete = False
    fields = ("step_index", "step", "outcome", "username", "taken_on", "comment", "data", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WorkflowInstance)
class WorkflowInstanceAdmin(ReadOnlyScopedModelAdmin):
    list_display = ("id", "process", "content_type", "object_id", "area_code", "current_step", "state", "locked",
                    "started_on", "finished_on")
    list_filter = ("process", "state", "locked")
    search_fields = ("area_code",)
    inlines = [StepRecordInline]


@admin.register(StepRecord)
class StepRecordAdmin(ReadOnlyScopedModelAdmin):
    list_display = ("instance", "step", "outcome", "username", "taken_on", "created_at")
    list_filter = ("step", "outcome")


@admin.register(Objection)
class ObjectionAdmin(ReadOnlyScopedModelAdmin):
    list_display = ("instance", "text", "raised_on", "recorded_by_username", "resolved_on")


@admin.register(ChangeRequest)
class ChangeRequestAdmin(ReadOnlyScopedModelAdmin):
    list_display = ("id", "household", "status", "requested_by_username", "requested_at", "decided_by_username",
                    "decided_at")
    list_filter = ("status",)
