"""xiaokang demo [--no-serve] [--scale N] [--seed S] [--county CODE ...]

Sets up a complete demonstration on an empty (or earlier demo) database, every step idempotent:

1. ``migrate``;
2. load the packaged Zhuzhou divisions (``areas import --zhuzhou``);
3. wipe the earlier demo registry (``is_demo``) and load a fresh synthetic one (``xiaokang.demo``);
4. create the demo users (password: ``XIAOKANG_DEMO_PASSWORD`` or ``xiaokang-demo-2020``);
5. enter, as an administrator, Hunan's 2017 and 2018 exit standards (3335, 3535), which are
   unconfirmed and not shipped: the 2017/2018 assessments work only because of this entry;
6. assess every household for 2014–2020, the poor villages and the counties' 2017 evaluation;
7. open household exits at different steps, record monitoring events, warnings and cases, seed a few
   data errors and run the data-quality checks; print the per-county summary for 2014 and 2020;
8. unless ``--no-serve``, start the web server (``xiaokang serve``).
"""

from __future__ import annotations

import datetime as dt

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from xiaokang.core.text import display_width
from xiaokang.demo import generator as G
from xiaokang.demo import loader as L
from xiaokang.demo import plan as P

SUMMARY_COLUMNS = [
    ("code", "代码"), ("name", "名称"), ("households", "建档户数"), ("people", "人口"),
    ("exited_households", "已脱贫户"), ("remaining_households", "未脱贫户"), ("remaining_people", "未脱贫人口"),
    ("population", "户籍人口"), ("incidence", "贫困发生率%"), ("met", "达标"), ("not_met", "未达标"),
    ("unassessable", "无法评估"),
]


def format_table(rows: list[dict], columns=SUMMARY_COLUMNS) -> str:
    def cell(v):
        return "—" if v is None else (f"{v:,}" if isinstance(v, int) else str(v))

    table = [[label for _, label in columns]] + [[cell(r.get(k)) for k, _ in columns] for r in rows]
    widths = [max(display_width(row[i]) for row in table) for i in range(len(columns))]
    lines = []
    for n, row in enumerate(table):
        lines.append("  ".join(
            " " * (widths[i] - display_width(c)) + c if i > 1 else c + " " * (widths[i] - display_width(c))
            for i, c in enumerate(row)))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


class Command(BaseCommand):
    help = "载入株洲市演示数据（虚构）、评估 2014–2020 年并启动服务（Load the synthetic Zhuzhou demo and serve it）"

    def add_arguments(self, parser):
        parser.add_argument("--no-serve", action="store_true", help="只载入数据，不启动服务")
        parser.add_argument("--scale", type=int, default=1, help="每村复制 N 份贫困户（性能测试用），默认 1")
        parser.add_argument("--seed", type=int, default=G.DEFAULT_SEED, help=f"随机种子（默认 {G.DEFAULT_SEED}）")
        parser.add_argument("--county", action="append", dest="counties", metavar="CODE",
                            help="只生成这些县级区划（可重复），默认全部 9 个")
        parser.add_argument("--no-progress", action="store_true", help="不显示进度条")

    def handle(self, *args, **opts):
        if opts["scale"] < 1:
            raise CommandError("--scale 至少为 1")
        counties = opts["counties"] or None
        if counties:
            unknown = [c for c in counties if c not in P.COUNTIES]
            if unknown:
                raise CommandError(f"没有这些县级区划的演示方案: {', '.join(unknown)}（可选 {', '.join(P.COUNTIES)}）")
        progress = not opts["no_progress"] and opts.get("verbosity", 1) >= 1
        started = dt.datetime.now()
        out = self.stdout

        out.write("1/7 数据库迁移（migrate）……")
        call_command("migrate", interactive=False, verbosity=0)

        out.write("2/7 载入株洲市区划……")
        from xiaokang.areas.services import import_zhuzhou

        out.write("    " + import_zhuzhou().summary())

        out.write(f"3/7 生成演示建档立卡数据（种子 {opts['seed']}，规模 ×{opts['scale']}）……")
        result = L.load_demo(opts["seed"], opts["scale"], counties, progress=progress,
                             say=lambda m: out.write("    " + m))
        out.write(f"    村 {result.villages:,}（贫困村 {result.poor_villages}），户 {result.households:,}，"
                  f"成员 {result.members:,}，年度收入 {result.incomes:,}；用时 {result.seconds['total']:.1f} 秒")

        out.write("4/7 创建演示用户、帮扶结对、走访记录与督查问题……")
        users = L.create_demo_users()
        admin_user = next(u for du, u in users if du.username == "admin")
        from xiaokang.registry.models import Pairing, Visit
        from xiaokang.supervision.models import Problem

        by_status = dict(Problem.objects.values_list("status").annotate(n=Count("id")))
        out.write(f"    帮扶结对 {Pairing.objects.count()} 户，走访记录 {Visit.objects.count()} 条；督查问题 "
                  f"{sum(by_status.values())} 个（待整改 {by_status.get('assigned', 0)}，已整改待回访 "
                  f"{by_status.get('rectified', 0)}，已销号 {by_status.get('closed', 0)}）")

        out.write("5/7 录入演示参数（湖南 2017、2018 年脱贫标准，未经核实）……")
        for pv in L.enter_demo_parameters(entered_by=admin_user):
            out.write(f"    {pv.name} 省 {pv.province} 自 {pv.effective_from:%Y-%m-%d}：{pv.value} {pv.unit}"
                      f"（{pv.status}；{pv.source}）")

        out.write("6/7 年度贫困户退出评估 2014–2020……")
        t = dt.datetime.now()
        runs = L.assess_demo(P.YEARS, P.CITY, progress=progress)
        out.write(f"    评估 {sum(r.households for r in runs):,} 户次，用时 {(dt.datetime.now() - t).total_seconds():.1f} 秒")
        from xiaokang.exits.demo import assess_demo_counties, assess_demo_villages  # village and county exit

        village_runs = assess_demo_villages(P.YEARS, P.CITY)
        out.write(f"    贫困村退出评估 {sum(r.assessed for r in village_runs):,} 村次")
        county_runs = assess_demo_counties(P.COUNTY_EVALUATION_YEARS, P.CITY)
        out.write(f"    贫困县摘帽评估 {sum(r.assessed for r in county_runs):,} 县次（含专项评估抽样，虚构）")
        out.write("7/7 审批流程、防返贫监测与疑点数据示例……")
        from xiaokang.monitoring.demo import load_demo as load_monitoring
        from xiaokang.quality.demo import load_demo as load_quality
        from xiaokang.workflow.demo import load_demo as load_workflows

        exits = load_workflows(user=admin_user)
        out.write(f"    贫困户退出审批 {len(exits)} 户（停在不同环节，含一条未处理的异议）")
        monitoring = load_monitoring(2020, P.CITY)
        out.write(f"    监测事件 {monitoring['events']:,}，预警 {monitoring['warnings']:,}，监测对象 {monitoring['cases']}")
        quality = load_quality(2020, P.CITY)
        out.write(f"    疑点数据 {quality.open:,} 条待核实（演示中故意留下的错误），检查用时 {quality.seconds:.1f} 秒")
        self.print_summaries((2014, 2020))

        out.write("")
        out.write(self.style.SUCCESS(f"演示数据就绪，共用时 {(dt.datetime.now() - started).total_seconds():.1f} 秒。"))
        out.write("演示账号（密码取环境变量 XIAOKANG_DEMO_PASSWORD，未设置时为 "
                  f"{L.DEFAULT_PASSWORD}）：")
        for du, _user in users:
            out.write(f"    {du.username:<14} {du.label}" + (f"，辖区 {du.area}" if du.area else ""))
        out.write("所有户、成员、村名和身份证号均为虚构（姓名含“示”，身份证顺序码 900–999，村名“示例…村”）。")

        if not opts["no_serve"]:
            call_command("serve")

    def print_summaries(self, years) -> None:
        try:
            from xiaokang.policy.selectors import county_summary, total_row
        except ImportError:  # the selectors module is not there yet
            self.stdout.write("    （汇总模块 xiaokang.policy.selectors 不可用，略过汇总表）")
            return
        for year in years:
            rows = county_summary(year, P.CITY)
            self.stdout.write("")
            self.stdout.write(f"{year} 年株洲市分县汇总")
            self.stdout.write(format_table(rows + [total_row(rows, P.CITY, "株洲市合计")]))
