from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    name = "xiaokang.workflow"
    verbose_name = "审批流程 Approval workflows"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from .processes import register_all

        register_all()
