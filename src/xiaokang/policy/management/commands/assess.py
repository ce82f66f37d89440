"""xiaokang assess [households|villages|counties|monitoring] --year Y [--area CODE] [--format table|csv|json] [--households]

Runs the yearly household exit assessment (set-based, stored) for an area and prints the summary by
the next level down, or with --households one row per household with its verdict and reasons.
"""

import csv
import json
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from xiaokang.areas.models import Area
from xiaokang.policy.params import ParameterError
from xiaokang.policy.reasons import render
from xiaokang.policy.rules.household import CRITERIA, VERDICTS
from xiaokang.policy.selectors import area_summary, total_row
from xiaokang.policy.services import run_household_assessment, to_reasons

CHILD_LENGTH = {0: 2, 2: 4, 4: 6, 6: 9, 9: 12, 12: 12}
SUMMARY_COLUMNS = [
    ("code", "代码"), ("name", "名称"), ("households", "建档户数"), ("people", "人口"),
    ("exited_households", "已脱贫户"), ("remaining_households", "未脱贫户"), ("remaining_people", "未脱贫人口"),
    ("population", "户籍人口"), ("incidence", "贫困发生率%"), ("met", "达标"), ("not_met", "未达标"),
    ("unassessable", "无法评估"),
]


def parse_years(text: str) -> list[int]:
    """"2019" -> [2019]; "2014-2020" -> [2014, ..., 2020]; "2014,2020" -> [2014, 2020]."""
    years = []
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            a, b = part.split("-", 1)
            years.extend(range(int(a), int(b) + 1))
        elif part:
            years.append(int(part))
    if not years or any(y < 2000 or y > 2100 for y in years):
        raise ValueError(text)
    return years


def print_table(rows: list[dict], columns, out) -> None:
    def cell(v):
        return "—" if v is None else (f"{v:,}" if isinstance(v, int) else str(v))

    table = [[label for _, label in columns]] + [[cell(r.get(k)) for k, _ in columns] for r in rows]
    width = lambda s: sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)  # noqa: E731  CJK cells are 2 wide
    widths = [max(width(row[i]) for row in table) for i in range(len(columns))]
    for n, row in enumerate(table):
        out.write("  ".join(" " * (widths[i] - width(c)) + c if i > 1 else c + " " * (widths[i] - width(c))
                            for i, c in enumerate(row)) + "\n")
        if n == 0:
            out.write("  ".join("-" * w for w in widths) + "\n")


class Command(BaseCommand):
    help = "运行年度贫困户退出评估并输出汇总（Run the yearly household exit assessment）"

    def add_arguments(self, parser):
        parser.add_argument("target", nargs="?", default="households", choices=["households", "villages", "counties", "monitoring"],
                            help="评估对象：households 贫困户（默认）、villages 贫困村退出、counties 贫困县摘帽、"
                                 "monitoring 防止返贫监测预警与巩固分类")
        parser.add_argument("--year", required=True, help="年度，如 2019、2014-2020 或 2014,2020")
        parser.add_argument("--area", default="", help="区划代码（2/4/6/9/12 位），默认全部")
        parser.add_argument("--format", choices=["table", "csv", "json"], default="table")
        parser.add_argument("--households", action="store_true", help="逐户输出结论与原因")
        parser.add_argument("--no-run", action="store_true", help="不重新评估，只输出已存结果")

    def handle(self, *args, **opts):
        try:
            years = parse_years(opts["year"])
        except ValueError:
            raise CommandError(f"--year 无效: {opts['year']!r}（例：2019 或 2014-2020）")
        code = opts["area"].strip()
        area = None
        if code:
            area = Area.objects.filter(code=code).first()
            if area is None:
                raise CommandError(f"区划代码不存在: {code}")
        if opts["target"] == "monitoring":
            from xiaokang.monitoring import cli as monitoring_cli

            monitoring_cli.run(self, years, area, opts["format"], opts["no_run"])
            return
        if opts["target"] != "households":
            from xiaokang.exits import cli as exits_cli

            exits_cli.run(self, opts["target"], years, area, opts["format"], opts["no_run"])
            return
        if not opts["no_run"]:
            for year in tqdm(years, desc="评估", unit="年", disable=len(years) < 2, file=sys.stderr):
                try:
                    run = run_household_assessment(year, area)
                except ParameterError as exc:
                    raise CommandError(str(exc))
                if run.households == 0:
                    self.stderr.write(f"{year} 年：该区域没有 {year} 年及以前识别的户，未评估")
                    continue
                self.stderr.write(f"{year} 年：评估 {run.households:,} 户，原因 {run.reasons:,} 条，用时 {run.seconds:.1f} 秒")
        if opts["households"]:
            self._households(years, area, opts["format"])
            return
        group_length = CHILD_LENGTH[len(code)]
        result = {}
        for year in years:
            rows = area_summary(year, area, group_length)
            result[year] = rows + [total_row(rows, code, area.name if area else "合计")] if rows else []
        self._emit_summary(result, opts["format"])

    def _emit_summary(self, result, fmt):
        out = self.stdout
        if fmt == "json":
            out.write(json.dumps({str(y): rows for y, rows in result.items()}, ensure_ascii=False, default=str, indent=1))
            return
        if fmt == "csv":
            w = csv.writer(out)
            w.writerow(["年度"] + [label for _, label in SUMMARY_COLUMNS])
            for y, rows in result.items():
                for r in rows:
                    w.writerow([y] + ["" if r.get(k) is None else r.get(k) for k, _ in SUMMARY_COLUMNS])
            return
        for y, rows in result.items():
            out.write(f"\n{y} 年贫困户退出评估汇总\n")
            print_table(rows, SUMMARY_COLUMNS, out)

    def _households(self, years, area, fmt):
        from xiaokang.policy.models import AssessmentReason, HouseholdAssessment

        cols = ["year", "household_number", "area_code", "member_count", "net_income", "per_capita_income",
                "income_standard", *CRITERIA, "verdict", "reasons"]
        w = csv.writer(self.stdout) if fmt != "json" else None
        if w:
            w.writerow(cols)
        items = []
        for year in years:
            qs = (HouseholdAssessment.objects.filter(year=year).within(area).select_related("household")
                  .order_by("household__household_number"))
            for chunk_start in range(0, qs.count(), 2000):
                chunk = list(qs[chunk_start:chunk_start + 2000])
                reasons = {}
                for r in AssessmentReason.objects.filter(year=year, household_id__in=[a.household_id for a in chunk]):
                    reasons.setdefault(r.household_id, []).append(r)
                for a in chunk:
                    text = "；".join(render(x) for x in to_reasons(reasons.get(a.household_id, []), year))
                    row = {"year": year, "household_number": a.household.household_number, "area_code": a.area_id,
                           "member_count": a.member_count, "net_income": a.net_income,
                           "per_capita_income": a.per_capita_income, "income_standard": a.income_standard,
                           **{c: getattr(a, c) for c in CRITERIA}, "verdict": VERDICTS[a.verdict], "reasons": text}
                    if w:
                        w.writerow(["" if row[c] is None else row[c] for c in cols])
                    else:
                        items.append(row)
        if not w:
            self.stdout.write(json.dumps(items, ensure_ascii=False, default=str, indent=1))
