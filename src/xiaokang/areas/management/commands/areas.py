"""``xiaokang areas import FILE [FILE ...]`` / ``xiaokang areas import --zhuzhou``: load divisions (行政区划).

The layout of each file is detected from its header (see ``xiaokang.areas.services``). Several files
are imported in one transaction, so a full national load is::

    xiaokang areas import provinces.csv cities.csv areas.csv streets.csv
"""

from django.core.management.base import BaseCommand, CommandError

from xiaokang.areas.services import AreaImportError, import_areas, import_zhuzhou


class Command(BaseCommand):
    help = "行政区划：import 导入 CSV（国家统计用区划代码各级文件或本项目格式），--zhuzhou 载入内置株洲区划"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, title="操作")
        imp = sub.add_parser("import", help="导入区划 CSV（幂等：已有代码更新，新代码新增）")
        imp.add_argument("files", nargs="*", metavar="FILE",
                         help="CSV 文件：provinces/cities/areas/streets 格式或 code,name,level,parent_code,… 格式")
        imp.add_argument("--zhuzhou", action="store_true", help="载入内置株洲市区划（省、市、县级、乡级）")

    def handle(self, *args, action=None, files=(), zhuzhou=False, **options):
        if action != "import":
            raise CommandError(f"未知操作 {action}")
        if not files and not zhuzhou:
            raise CommandError("请给出 CSV 文件，或使用 --zhuzhou")
        say = (lambda msg: self.stdout.write(msg)) if options.get("verbosity", 1) >= 1 else None
        try:
            results = []
            if zhuzhou:
                results.append(("株洲市内置区划", import_zhuzhou(progress=say)))
            if files:
                results.append(("导入", import_areas(list(files), progress=say)))
        except AreaImportError as exc:
            raise CommandError(f"导入失败，未写入任何数据。{exc}") from exc
        except FileNotFoundError as exc:
            raise CommandError(f"文件不存在：{exc.filename}") from exc
        for label, result in results:
            self.stdout.write(self.style.SUCCESS(f"{label}：{result.summary()}"))
