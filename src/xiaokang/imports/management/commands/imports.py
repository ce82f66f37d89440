"""``xiaokang imports purge [--days N] [--dry-run]``: remove the stored files of ended import batches.

The uploaded files and error workbooks of batches that ended (applied, failed, or a finished dry run) more
than N days ago (default ``XIAOKANG_IMPORT_RETENTION_DAYS``, 90) are deleted, their paths cleared on the
batch and the time recorded (``files_removed_at``); batches still uploaded, validated or applying are not
ended, but one left waiting that long since it was uploaded or validated is abandoned: ended (failed, with
the reason) and its files removed too (``xiaokang.imports.retention``). Prints the total, then each batch (files, bytes, when it ended);
``--dry-run`` lists what would go and removes nothing (``xiaokang imports -v 0 purge``: the total only).
Meant for a daily cron job::

    15 3 * * *  xiaokang imports purge
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaokang.imports import retention


class Command(BaseCommand):
    @property
    def help(self):  # translated when the parser is built (argparse cannot format a lazy string)
        return _("导入文件管理：purge 按保存期限删除已结束批次的上传文件和错误清单")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, title=_("操作"))
        purge = sub.add_parser("purge", help=_("删除结束超过保存期限的导入批次的上传文件和错误清单（批次记录保留）"))
        purge.add_argument("--days", type=int, default=None,
                           help=_("保存天数（至少 1；默认 XIAOKANG_IMPORT_RETENTION_DAYS，%(days)s 天）")
                           % {"days": retention.retention_days()})
        purge.add_argument("--dry-run", action="store_true", help=_("只列出将删除的文件，不删除"))

    def handle(self, *args, action=None, days=None, dry_run=False, **options):
        if action != "purge":
            raise CommandError(_("未知操作 %(action)s") % {"action": action})
        try:
            result = retention.purge(days, dry_run=dry_run)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        values = {"batches": result.batches, "files": result.files, "bytes": f"{result.bytes:,}",
                  "days": result.days, "cutoff": f"{timezone.localtime(result.cutoff):%Y-%m-%d %H:%M}"}
        if dry_run:
            line = _("试运行（未删除）：将删除 %(batches)s 个批次的 %(files)s 个文件，共 %(bytes)s 字节"
                     "（保存期限 %(days)s 天：%(cutoff)s 之前结束的批次）") % values
        else:
            line = _("已删除 %(batches)s 个批次的 %(files)s 个文件，共 %(bytes)s 字节"
                     "（保存期限 %(days)s 天：%(cutoff)s 之前结束的批次）") % values
        if result.abandoned:
            line += (_("；其中 %(n)s 个批次逾期未导入，将作废") if dry_run
                     else _("；其中 %(n)s 个批次逾期未导入，已作废")) % {"n": result.abandoned}
        if result.stray_files:
            stray = {"n": result.stray_files, "bytes": f"{result.stray_bytes:,}"}
            line += (_("；另将删除 %(n)s 个中断的上传或导入留下的临时文件，共 %(bytes)s 字节") if dry_run
                     else _("；另删除 %(n)s 个中断的上传或导入留下的临时文件，共 %(bytes)s 字节")) % stray
        self.stdout.write(line)
        if options.get("verbosity", 1) >= 1:  # the batches too: a cron job's log says what went
            for item in result.items:
                if item.abandoned:
                    text = _("  批次 #%(pk)s %(name)s（%(status)s，%(ended)s 起未导入，逾期作废）：%(files)s 个文件，%(bytes)s 字节")
                else:
                    text = _("  批次 #%(pk)s %(name)s（%(status)s，%(ended)s 结束）：%(files)s 个文件，%(bytes)s 字节")
                self.stdout.write(text % {"pk": item.pk, "name": item.file_name, "status": _status(item.status),
                                          "ended": f"{timezone.localtime(item.ended_at):%Y-%m-%d}",
                                          "files": item.files, "bytes": f"{item.bytes:,}"})


def _status(value: str) -> str:
    from xiaokang.imports.models import BatchStatus

    return str(BatchStatus(value).label)
