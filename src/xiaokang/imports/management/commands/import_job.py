"""``xiaokang import_job BATCH validate|apply [--user ID]``: the background job of a web upload
(``imports.jobs``; started by the web server in its own process, not meant to be typed)."""

from django.core.management.base import BaseCommand

from xiaokang.imports import jobs


class Command(BaseCommand):
    help = "后台导入任务（由 Web 上传启动）：校验或导入一个批次"

    def add_arguments(self, parser):
        parser.add_argument("batch", type=int)
        parser.add_argument("action", choices=[jobs.VALIDATE, jobs.APPLY])
        parser.add_argument("--user", type=int, default=None)

    def handle(self, *args, batch, action, user, **options):
        done = jobs.run(batch, action, user)
        self.stdout.write(f"批次 {done.pk}：{done.get_status_display()} {done.message}")
