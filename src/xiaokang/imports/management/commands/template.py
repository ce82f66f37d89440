"""``xiaokang template [--out FILE]``: write an empty import workbook in the layout (导入模板)."""

from django.core.management.base import BaseCommand

from xiaokang.imports.layout import write_template


class Command(BaseCommand):
    help = "生成导入模板（空白 Excel 工作簿）"

    def add_arguments(self, parser):
        parser.add_argument("--out", default="导入模板.xlsx", help="输出文件（默认 导入模板.xlsx）")

    def handle(self, *args, out, **options):
        path = write_template(out)
        self.stdout.write(f"已生成导入模板：{path}")
