"""``xiaokang assess villages|counties --year Y [--area CODE] [--format table|csv|json] [--no-run]``.

Called by ``policy/management/commands/assess.py`` for the ``villages`` and ``counties`` targets: runs the
village or county exit assessment (stored) for each year and prints every village or county with its
criteria and reasons.
"""

from __future__ import annotations

import csv
import json
import sys

from django.core.management.base import CommandError

from xiaokang.policy.params import ParameterError

from .models import CountyAssessment, ExitReason, VillageAssessment
from .selectors import county_rows, village_rows
from .services import run_county_assessment, run_village_assessment


def _flag(v):
    return "—" if v is None else ("✓" if v else "✗")


def village_table(rows):
    header = ["代码", "名称", "贫困发生率", "上限", "集体经济收入", "通路", "通水", "通电", "就学", "卫生室", "结论", "原因"]
    out = [header]
    for r in rows:
        out.append([
            r["code"], r["name"], f"{r['incidence']}（{r['poor_people']}/{r['population'] if r['population'] is not None else '—'}）",
            r["incidence_max"], "—" if r["collective_income"] is None else f"{r['collective_income']:,}",
            *(_flag(r[c]) for c in ("road", "water", "electricity", "school", "clinic")),
            r["verdict_label"], "；".join(r["reasons"]),
        ])
    return out


def county_table(rows):
    header = ["代码", "名称", "贫困发生率", "农民收入", "错退率", "漏评率", "综合贫困发生率", "群众认可度", "结论", "原因"]
    out = [header]
    for r in rows:
        rates = {x["key"]: x for x in r["rates"]}

        def cell(k):
            x = rates[k]
            return f"{x['percent']}（{x['numerator'] if x['numerator'] is not None else '—'}/{x['denominator'] if x['denominator'] is not None else '—'}）{_flag(x['ok'])}"

        income = "—" if r["rural_income"] is None else f"{r['rural_income']:,}"
        out.append([r["code"], r["name"], cell("incidence"), f"{income} {_flag(r['rural_income_ok'])}",
                    cell("wrong_exit"), cell("missed"), cell("comprehensive"), cell("approval"),
                    r["verdict_label"], "；".join(r["reasons"])])
    return out


def _json_safe(rows):
    return [{k: v for k, v in r.items() if k != "assessment"} for r in rows]


def run(command, target: str, years: list[int], area, fmt: str, no_run: bool = False) -> None:
    runner = run_village_assessment if target == "villages" else run_county_assessment
    if not no_run:
        for year in years:
            try:
                result = runner(year, area)
            except ParameterError as exc:
                raise CommandError(str(exc))
            command.stderr.write(f"{year} 年：评估 {result.assessed:,} 个{'村' if target == 'villages' else '县'}，"
                                 f"原因 {result.reasons:,} 条，用时 {result.seconds:.1f} 秒")
    model = VillageAssessment if target == "villages" else CountyAssessment
    select = village_rows if target == "villages" else county_rows
    table = village_table if target == "villages" else county_table
    out = command.stdout
    result = {}
    for year in years:
        result[year] = select(model.objects.within(area), ExitReason.objects.within(area), year)
    if fmt == "json":
        out.write(json.dumps({str(y): _json_safe(rows) for y, rows in result.items()}, ensure_ascii=False,
                             default=str, indent=1))
        return
    if fmt == "csv":
        w = csv.writer(out)
        for i, (y, rows) in enumerate(result.items()):
            t = table(rows)
            if i == 0:
                w.writerow(["年度"] + t[0])
            for row in t[1:]:
                w.writerow([y] + row)
        return
    from xiaokang.policy.management.commands.assess import print_table

    title = "贫困村退出评估" if target == "villages" else "贫困县摘帽评估"
    for y, rows in result.items():
        out.write(f"\n{y} 年{title}（{len(rows)} 个）\n")
        t = table(rows)
        cols = [(i, label) for i, label in enumerate(t[0])]
        print_table([dict(enumerate(r)) for r in t[1:]], cols, out)
    sys.stdout.flush()
