"""``xiaokang quality check|export`` — the data-quality checks (数据清洗) from the command line.

    xiaokang quality check [--area CODE] [--year Y] [--format table|csv|json] [--timings]
    xiaokang quality export --out FILE.xlsx|FILE.csv [--area CODE] [--status open|fixed|confirmed] [--rule CODE]

``check`` runs every rule over the area for the year (stored findings kept in step, see
``quality.services.run_checks``) and prints a summary line and the counts by rule (with ``--format csv``
or ``json`` the summary goes to standard error, so standard output is only the data); ``export`` writes the stored findings
(CSV in UTF-8 with BOM for Excel, or xlsx), ID numbers masked.
"""

import csv
import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from xiaokang.core.scoping import area_prefix
from xiaokang.policy.management.commands.assess import print_table
from xiaokang.policy.params import ParameterError
from xiaokang.quality import catalogue, selectors
from xiaokang.quality.models import Finding, FindingStatus
from xiaokang.quality.services import run_checks

COLUMNS = [("code", "规则代码"), ("title", "规则"), ("severity", "严重程度"), ("found", "本次发现"),
           ("open", "待处理"), ("confirmed", "核实无误"), ("fixed", "已修正")]


class Command(BaseCommand):
    help = "数据清洗：运行疑点数据检查或导出疑点（Data-quality checks and export）"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("check", help="运行全部数据清洗规则并同步疑点状态")
        check.add_argument("--area", default=None, help="区划代码（2/4/6/9/12 位），默认全部")
        check.add_argument("--year", type=int, default=None, help="检查年度（默认：最近的收入年度）")
        check.add_argument("--format", choices=["table", "csv", "json"], default="table")
        check.add_argument("--timings", action="store_true", help="在标准错误输出中打印各步骤用时（秒）")
        export = sub.add_parser("export", help="导出疑点数据（.xlsx 或 .csv，证件号码脱敏）")
        export.add_argument("--out", required=True, help="输出文件 FILE.xlsx 或 FILE.csv")
        export.add_argument("--area", default=None)
        export.add_argument("--status", choices=[s for s, _ in FindingStatus.choices], default=None)
        export.add_argument("--rule", choices=list(catalogue.CODES), default=None)

    def handle(self, *args, **opts):
        try:
            prefix = area_prefix(opts.get("area"))
        except ValueError as exc:
            raise CommandError(str(exc))
        if opts["action"] == "check":
            return self.run_check(prefix, opts)
        return self.run_export(prefix, opts)

    def run_check(self, prefix, opts):
        try:
            run = run_checks(prefix or None, opts["year"])
        except (ParameterError, ValueError) as exc:  # a missing parameter, a year still to come
            raise CommandError(str(exc))
        fmt = opts["format"]
        # the summary line with the table; on standard error when standard output carries CSV or JSON
        say = self.stdout.write if fmt == "table" else self.stderr.write
        say(
            f"{run.year} 年 {run.area or '全部区域'}：发现 {run.found:,} 条（新增 {run.new:,}，重新打开 {run.reopened:,}），"
            f"已修正 {run.fixed:,}；待处理 {run.open:,}，核实无误 {run.confirmed:,}；用时 {run.seconds:.1f} 秒")
        if not run.recorded:
            say(f"（{run.year} 年早于最近的收入年度：只统计本次发现，疑点记录及其状态未改变；"
                f"疑点记录按最近年度的检查更新）")
        if opts.get("timings"):
            for label, seconds in run.timings.items():
                self.stderr.write(f"  {seconds:8.3f} s  {label}")
        rows = selectors.counts_by_rule(Finding.objects.within(prefix or None))
        for r in rows:
            r["found"] = run.by_rule.get(r["code"], 0)
        if fmt == "json":
            self.stdout.write(json.dumps({"run": run.as_dict(), "rules": rows}, ensure_ascii=False, indent=1,
                                         default=str))
        elif fmt == "csv":
            w = csv.writer(self.stdout)
            w.writerow([label for _, label in COLUMNS])
            for r in rows:
                w.writerow([r[k] for k, _ in COLUMNS])
        else:
            print_table(rows, COLUMNS, self.stdout)

    def run_export(self, prefix, opts):
        out = Path(opts["out"])
        qs = Finding.objects.within(prefix or None)
        if opts["status"]:
            qs = qs.filter(status=opts["status"])
        if opts["rule"]:
            qs = qs.filter(rule_code=opts["rule"])
        rows = selectors.finding_rows(qs.order_by("area_code", "household_id", "rule_code", "member_key"),
                                      prefix=prefix)
        suffix = out.suffix.lower()
        if suffix == ".xlsx":
            n = selectors.write_xlsx(rows, out)
        elif suffix == ".csv":
            with out.open("w", encoding="utf-8-sig", newline="") as fh:
                n = selectors.write_csv(rows, fh)
        else:
            raise CommandError("输出文件须以 .xlsx 或 .csv 结尾")
        self.stdout.write(f"已导出 {n:,} 条疑点到 {out}")
