"""``xiaokang assess monitoring --year Y [--area CODE] [--format table|csv|json] [--no-run]``.

Called by ``policy/management/commands/assess.py`` for the ``monitoring`` target: computes the year's early
warnings (new ones stored, existing ones kept) and the consolidation classes of exited households, and
prints the counts by warning kind and by class.
"""

from __future__ import annotations

import csv
import json

from django.core.management.base import CommandError
from django.db.models import Count

from xiaokang.core.text import ljust
from xiaokang.core.scoping import area_prefix
from xiaokang.policy.params import ParameterError
from xiaokang.policy.rules.monitoring import CLASSES, WARNING_KINDS

from .models import ConsolidationClass, EarlyWarning
from .services import run_monitoring


def _stored(year, prefix):
    lo, hi = prefix, prefix + "9" * (12 - len(prefix))
    w = dict(EarlyWarning.objects.filter(year=year, area_code__gte=lo, area_code__lte=hi)
             .values_list("kind").annotate(n=Count("id")))
    c = dict(ConsolidationClass.objects.filter(year=year, area_code__gte=lo, area_code__lte=hi)
             .values_list("klass").annotate(n=Count("id")))
    return w, c


def run(command, years: list[int], area, fmt: str, no_run: bool = False) -> None:
    prefix = area_prefix(area)
    result = {}
    for year in years:
        new = {}
        if not no_run:
            try:
                r = run_monitoring(year, area)
            except ParameterError as exc:
                raise CommandError(str(exc))
            new = r.new_warnings
            command.stderr.write(f"{year} 年：新增预警 {sum(new.values()):,} 条，用时 {r.seconds:.1f} 秒")
        warnings, classes = _stored(year, prefix)
        result[year] = {
            "warnings": [{"kind": k, "label": v, "new": new.get(k, 0), "total": warnings.get(k, 0)}
                         for k, v in WARNING_KINDS.items()],
            "classes": [{"class": k, "label": v, "households": classes.get(k, 0)} for k, v in CLASSES.items()],
        }
    out = command.stdout
    if fmt == "json":
        out.write(json.dumps({str(y): r for y, r in result.items()}, ensure_ascii=False, indent=1))
        return
    if fmt == "csv":
        w = csv.writer(out)
        w.writerow(["年度", "类别", "代码", "名称", "本次新增", "合计"])
        for y, r in result.items():
            for x in r["warnings"]:
                w.writerow([y, "预警", x["kind"], x["label"], x["new"], x["total"]])
            for x in r["classes"]:
                w.writerow([y, "巩固分类", x["class"], x["label"], "", x["households"]])
        return
    for y, r in result.items():
        out.write(f"\n{y} 年防止返贫监测预警（{area.name if area else '全部区域'}）\n")
        for x in r["warnings"]:
            out.write(f"  {ljust(x['label'], 24)}{x['kind']:<16} 新增 {x['new']:>6,}  合计 {x['total']:>6,}\n")
        out.write(f"  {ljust('合计', 24)}{'':<16} 新增 {sum(x['new'] for x in r['warnings']):>6,}  "
                  f"合计 {sum(x['total'] for x in r['warnings']):>6,}\n")
        out.write(f"{y} 年已脱贫户巩固分类\n")
        for x in r["classes"]:
            out.write(f"  {ljust(x['label'], 12)}{x['households']:>8,} 户\n")
