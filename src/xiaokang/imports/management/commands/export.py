"""xiaokang export --out FILE.xlsx|.csv [--area CODE] [--status poor|exited|returned] [--year Y] [--masked]

The registry in the import layout (one row per member; ``imports.export``). The command line writes full
ID and phone numbers (channel ``command``) unless ``--masked``; every export is logged (``ExportLog``).
"""

from django.core.management.base import BaseCommand, CommandError

from xiaokang.areas.models import Area
from xiaokang.imports.export import ExportError, export_file


class Command(BaseCommand):
    help = "按导入格式导出贫困户信息（Export the registry in the import layout, .xlsx or .csv）"

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="输出文件（.xlsx 或 .csv；CSV 为带 BOM 的 UTF-8）")
        parser.add_argument("--area", default="", help="区划代码（2/4/6/9/12 位），默认全部")
        parser.add_argument("--status", default="", help="脱贫属性：poor / exited / returned")
        parser.add_argument("--year", type=int, default=None, help="收入年度（默认为最近一年）")
        parser.add_argument("--format", dest="fmt", choices=["xlsx", "csv"], default=None,
                            help="格式（默认按文件后缀，否则 xlsx）")
        parser.add_argument("--masked", action="store_true", help="证件号码和电话脱敏")

    def handle(self, *args, **opts):
        code = opts["area"].strip()
        if code and not Area.objects.filter(code=code).exists():
            raise CommandError(f"区划代码不存在: {code}")
        try:
            result = export_file(opts["out"], area=code, status=opts["status"].strip(), year=opts["year"],
                                 fmt=opts["fmt"], full_ids=not opts["masked"], channel="command")
        except ExportError as exc:
            raise CommandError(str(exc)) from None
        kind = "完整证件号码" if result.full_ids else "证件号码已脱敏"
        self.stdout.write(f"已导出 {result.households:,} 户、{result.rows:,} 行（{result.year or '无'} 年收入，{kind}）"
                          f" → {result.path}")
