"""xiaokang snapshot --out DIR [--area CODE]: the registry as Parquet files (one per table) for DuckDB."""

from django.core.management.base import BaseCommand, CommandError

from xiaokang.areas.models import Area
from xiaokang.exits.snapshot import write_snapshot


class Command(BaseCommand):
    help = "将登记数据导出为 Parquet 快照（Write the registry as a Parquet snapshot）"

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="输出目录")
        parser.add_argument("--area", default="", help="区划代码（2/4/6/9/12 位），默认全部")

    def handle(self, *args, **opts):
        code = opts["area"].strip()
        if code and not Area.objects.filter(code=code).exists():
            raise CommandError(f"区划代码不存在: {code}")
        for f in write_snapshot(opts["out"], code or None):
            self.stdout.write(f"{f.table}: {f.rows:,} 行 → {f.path}")
