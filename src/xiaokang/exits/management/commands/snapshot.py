"""xiaokang snapshot --out DIR [--area CODE] [--facts-year Y …] [--monitoring]: the registry as Parquet files
for DuckDB and Spark."""

from django.core.management.base import BaseCommand, CommandError

from xiaokang.areas.models import Area
from xiaokang.exits.snapshot import write_snapshot


class Command(BaseCommand):
    help = "将登记数据导出为 Parquet 快照（Write the registry as a Parquet snapshot）"

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="输出目录")
        parser.add_argument("--area", default="", help="区划代码（2/4/6/9/12 位），默认全部")
        parser.add_argument("--facts-year", type=int, nargs="*", default=[], dest="facts_years",
                            help="同时写出这些年度的户成员汇总（policy_household_year.parquet）")
        parser.add_argument("--monitoring", action="store_true", help="同时写出防返贫监测的事件、预警和监测对象")

    def handle(self, *args, **opts):
        code = opts["area"].strip()
        if code and not Area.objects.filter(code=code).exists():
            raise CommandError(f"区划代码不存在: {code}")
        from xiaokang.policy.params import ParameterError

        try:
            files = write_snapshot(opts["out"], code or None, facts_years=opts["facts_years"],
                                   monitoring=opts["monitoring"])
        except ParameterError as exc:
            raise CommandError(str(exc)) from exc
        for f in files:
            self.stdout.write(f"{f.table}: {f.rows:,} 行 → {f.path}")
