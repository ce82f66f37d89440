"""``xiaokang import FILE [--partial] [--dry-run] [--area CODE] [--user NAME] [--reimport]``

Imports one .xlsx / .xls / .csv file in the collection-form layout (``xiaokang.imports``): prints the
counts (households new / changed / unchanged, members new / changed) and the errors (the first 20).
All-or-nothing unless ``--partial`` (the valid households are imported, the rest go to the error workbook
whose path is printed). ``--area`` limits the import to an area (default: the user's area; none:
everything, and the batch is then filed under the smallest area holding its households); ``--user``
names the acting user recorded in history.

``--dry-run`` removes its stored copy of the file as soon as it has finished (the batch stays, with its
counts and errors); its error workbook, whose path is printed, is kept for the retention period
(``xiaokang imports purge``).

Exit status: 0 everything imported (or, with ``--dry-run``, would be); 1 nothing imported (errors, the
file refused); 3 imported with households left out (``--partial``; their rows are in the error workbook).
"""

from django.core.management.base import BaseCommand, CommandError

from xiaokang.imports import retention, services

SHOWN_ERRORS = 20
EXIT_FAILED, EXIT_PARTIAL = 1, 3


class Command(BaseCommand):
    help = "导入贫困户信息采集表格式的 Excel/CSV 文件 (import a registry file)"

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--partial", action="store_true", help="导入无误的户，其余写入错误清单")
        parser.add_argument("--dry-run", action="store_true", help="只校验并统计，不写入")
        parser.add_argument("--area", help="限定区域代码（默认：用户的管辖区域）")
        parser.add_argument("--user", help="操作用户名（记入修改记录）")
        parser.add_argument("--reimport", action="store_true", help="允许重复导入相同内容的文件")

    def handle(self, *args, file, partial, dry_run, area, user, reimport, **options):
        from pathlib import Path

        from xiaokang.accounts.models import User

        if not Path(file).is_file():
            raise CommandError(f"文件不存在：{file}")
        acting = None
        if user:
            acting = User.objects.filter(username=user).first()
            if acting is None:
                raise CommandError(f"用户不存在：{user}")
        if area:
            from xiaokang.areas.models import Area

            if not Area.objects.filter(code=area.strip()).exists():
                raise CommandError(f"区划代码不存在: {area}")
            area = area.strip()
        area_code = area if area is not None else (acting.area_id if acting and not acting.is_superuser else "")
        batch = None
        try:
            batch = services.stage(file, acting, partial, area_code=area_code or "", channel="command",
                                   reimport=reimport, dry_run=dry_run)
            # the checks against the registry run once, in the apply below (real run or dry run)
            batch = services.validate(batch, registry_checks=False)
            if batch.status == "validated":
                batch = services.apply(batch, acting, dry_run=dry_run)
            elif batch.status == "failed" and not batch.error_count:
                raise services.ImportRefused(batch.message)  # refused as a whole (same content already applied)
        except (services.ImportRefused, PermissionError) as exc:
            raise CommandError(str(exc)) from exc
        finally:
            if dry_run and batch is not None:
                retention.discard_upload(batch)  # a dry run can never be applied: its stored copy goes now
        w = self.stdout.write
        prefix = "试运行（未写入）：" if dry_run else ""
        w(f"{prefix}文件 {batch.file_name}：{batch.rows_total} 行，{batch.households_total} 户；"
          f"状态 {batch.get_status_display()}")
        if batch.status == "failed" and batch.message and batch.message != services.errors_message(batch):
            w(f"  {batch.message}")  # refused for another reason than its errors (the same content applied)
        if batch.status == "applied" or dry_run and batch.status != "failed":
            w(f"  户：新增 {batch.households_new}，修改 {batch.households_changed}，未变 {batch.households_unchanged}"
              + (f"，未导入 {batch.households_rejected}" if batch.households_rejected else ""))
            w(f"  成员：新增 {batch.members_new}，修改 {batch.members_changed}，未变 {batch.members_unchanged}")
            w(f"  年度收入：新增 {batch.incomes_new}，修改 {batch.incomes_changed}")
            for note in batch.notes[:SHOWN_ERRORS]:
                w(f"  提示：{note}")
        if batch.error_count:
            w(f"错误 {batch.error_count} 处" + ("（全部未导入）" if batch.status == "failed" else "") + "：")
            from xiaokang.imports.readers import Issue

            for e in batch.errors[:SHOWN_ERRORS]:
                w("  " + str(Issue(**e)))
            if batch.error_count > SHOWN_ERRORS:
                w(f"  …… 另有 {batch.error_count - SHOWN_ERRORS} 处")
            if batch.error_report_path:
                w(f"错误清单：{batch.error_report_path}")
            raise SystemExit(EXIT_FAILED if batch.status == "failed" else EXIT_PARTIAL)
