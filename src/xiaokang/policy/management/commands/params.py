"""xiaokang params list [NAME] | xiaokang params set NAME YEAR VALUE --source TEXT [--province 43]

Lists the dated policy parameters (files plus entered values) or enters a value with its source.
"""

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from xiaokang.policy.models import ParameterValue
from xiaokang.policy.params import ParameterError
from xiaokang.policy.services import current_parameters


class Command(BaseCommand):
    help = "查看或录入政策参数（List or enter dated policy parameters）"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        ls = sub.add_parser("list")
        ls.add_argument("name", nargs="?")
        st = sub.add_parser("set")
        st.add_argument("name")
        st.add_argument("year", type=int)
        st.add_argument("value")
        st.add_argument("--source", required=True, help="来源（文件名、文号或链接）")
        st.add_argument("--province", default="", help="省级代码，如 43；空 = 全国")

    def handle(self, *args, **opts):
        params = current_parameters()
        if opts["action"] == "list":
            names = [opts["name"]] if opts.get("name") else params.names()
            for name in names:
                try:
                    meta = params.meta(name)
                except ParameterError as exc:
                    raise CommandError(str(exc))
                self.stdout.write(f"{name}  {meta.get('description', '').strip()}  [{meta.get('unit', '')}]")
                for prov in [None, "43"]:
                    for v in params.series(name, prov):
                        flag = "录入" if v.entered else "文件"
                        self.stdout.write(f"  {prov or '全国'}  {v.effective_from}  {v.value!r:>10}  {v.status:<16} {flag}  {v.source}")
            return
        name = opts["name"]
        try:
            params.meta(name)
        except ParameterError as exc:
            raise CommandError(str(exc))
        try:
            value = json.loads(opts["value"])
        except json.JSONDecodeError:
            value = opts["value"]
        ParameterValue.objects.update_or_create(
            name=name, province=opts["province"], effective_from=dt.date(opts["year"], 1, 1),
            defaults={"value": value, "source": opts["source"], "status": "entered"},
        )
        self.stdout.write(f"已录入 {name} {opts['province'] or '全国'} {opts['year']}: {value!r}（{opts['source']}）")
