"""The import/export layout (导入导出格式): the collection form (贫困户信息采集表) as one sheet.

One row per household member (家庭成员); the household's columns (户编号, 所在村代码, …) and one year's
income (年度 + the ``Income`` components, 元) are repeated on every member row of the household, or
merged vertically across them (the reader fills merged cells down). Headers are the Chinese column
names below; aliases are accepted; matching ignores spaces, non-breaking spaces and full-width forms
(``normalize_header``: NFKC, whitespace removed). Fields follow ``registry.models`` and policy.md §5.

Column types (``Column.type``):

- ``text``: free text (NFKC-normalised, stripped); ``id``: an ID number (must be text in Excel);
- ``code``: one code of ``Column.choices`` (a ``registry.codes`` list), given as the code or its label;
- ``codes``: several codes separated by ``,`` ``，`` ``、`` (其他致贫原因);
- ``area``: a 12-digit village code (所在村代码) that exists in the division table;
- ``date``: an Excel date cell or text 2019-04-01, 2019/4/1, 2019.4.1, 2019年4月1日, 20190401;
- ``year``: a four-digit year; ``int``: a whole number ≥ 0; ``decimal``: a number with at most
  ``Column.decimals`` decimals; ``money``: 元 with at most 2 decimals, stored as fen; ``bool``: 是/否.

Names here (``Column.key`` = the model field name, ``COLUMNS``, ``HOUSEHOLD_COLUMNS``,
``MEMBER_COLUMNS``, ``INCOME_COLUMNS``, ``BY_KEY``, ``GROUPS``) are stable: the export builds on them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.db import models

from xiaokang.registry import codes

HOUSEHOLD, MEMBER, INCOME = "household", "member", "income"
# Group headers (the first row of a two-row header), by target model.
GROUPS = {HOUSEHOLD: "户基本信息", MEMBER: "家庭成员信息", INCOME: "年度收入（元）"}


@dataclass(frozen=True)
class Column:
    """One column of the layout.

    ``key`` is the target model field (``model`` = household / member / income); ``header`` the Chinese
    column name written by the template and the export; ``aliases`` other accepted names.
    """

    key: str
    header: str
    model: str
    type: str
    required: bool = False
    example: str = ""
    aliases: tuple[str, ...] = ()
    choices: type[models.TextChoices] | None = None
    decimals: int = 0
    note: str = ""

    @property
    def field(self) -> str:
        return self.key

    def labels(self) -> dict[str, str]:
        """Code → official Chinese label of a coded column (empty for other types), whatever the UI language:
        files are Chinese."""
        return codes.zh_labels(self.choices) if self.choices is not None else {}


def normalize_header(value) -> str:
    """Header text for matching: NFKC (full-width → half-width), all whitespace (incl. NBSP) removed,
    a trailing required-marker ``*`` dropped."""
    if value is None:
        return ""
    s = unicodedata.normalize("NFKC", str(value))
    s = re.sub(r"\s+", "", s)
    return s.strip("*")


def _c(key, header, model, type_, required=False, example="", aliases=(), choices=None, decimals=0, note=""):
    return Column(key=key, header=header, model=model, type=type_, required=required, example=example,
                  aliases=tuple(aliases), choices=choices, decimals=decimals, note=note)


HOUSEHOLD_COLUMNS: tuple[Column, ...] = (
    _c("household_number", "户编号", HOUSEHOLD, "text", True, "430225100201001", ["户号", "贫困户编号"]),
    _c("area", "所在村代码", HOUSEHOLD, "area", True, "430225100201", ["村代码", "行政区划代码", "所在村"],
       note="12 位村级区划代码"),
    _c("natural_village", "自然村（组）", HOUSEHOLD, "text", False, "三组", ["自然村", "村民小组"]),
    _c("phone", "联系电话", HOUSEHOLD, "text", False, "13800000000", ["户联系电话", "电话"]),
    _c("household_type", "贫困户属性", HOUSEHOLD, "code", False, "一般贫困户", ["户属性"], codes.HouseholdType),
    _c("identification_standard", "识别标准", HOUSEHOLD, "code", False, "国家标准", [],
       codes.IdentificationStandard),
    _c("main_cause", "主要致贫原因", HOUSEHOLD, "code", True, "因病", ["致贫原因"], codes.PovertyCause),
    _c("other_causes", "其他致贫原因", HOUSEHOLD, "codes", False, "缺技术、缺资金", [], codes.PovertyCause,
       note="可多选，以逗号或顿号分隔；不得与主要致贫原因重复"),
    _c("identified_year", "识别年度", HOUSEHOLD, "year", True, "2014", ["识别年份", "建档年度"]),
    _c("poverty_status", "脱贫属性", HOUSEHOLD, "code", False, "未脱贫", ["脱贫状态"], codes.PovertyStatus),
    _c("exit_year", "脱贫年度", HOUSEHOLD, "year", False, "", ["脱贫年份"]),
    _c("return_year", "返贫年度", HOUSEHOLD, "year", False, "", ["返贫年份"]),
    _c("housing_grade", "住房安全等级", HOUSEHOLD, "code", False, "B", ["危房等级", "房屋安全等级"],
       codes.HousingGrade),
    _c("housing_renovated_year", "危房改造（或搬迁入住）年度", HOUSEHOLD, "year", False, "",
       ["危房改造年度", "危改年度"]),
    _c("housing_area_m2", "住房面积（平方米）", HOUSEHOLD, "decimal", False, "85.5", ["住房面积"], decimals=1),
    _c("water_scarce_area", "缺水地区", HOUSEHOLD, "bool", False, "否", ["是否缺水地区"]),
    _c("water_quantity_lpd", "人均日供水量（升）", HOUSEHOLD, "int", False, "60", ["人均日供水量"]),
    _c("water_quality_ok", "水质达标", HOUSEHOLD, "bool", False, "是", ["水质是否达标"]),
    _c("water_piped", "自来水入户", HOUSEHOLD, "bool", False, "是", ["是否自来水入户"]),
    _c("water_fetch_minutes", "单次取水往返时间（分钟）", HOUSEHOLD, "int", False, "", ["取水往返时间"]),
    _c("water_fetch_distance_m", "取水水平距离（米）", HOUSEHOLD, "int", False, "", ["取水水平距离"]),
    _c("water_fetch_vertical_m", "取水垂直距离（米）", HOUSEHOLD, "int", False, "", ["取水垂直距离"]),
    _c("water_outage_days", "年断水及供水不足天数", HOUSEHOLD, "int", False, "0", ["断水天数"]),
    _c("food_secure", "不愁吃", HOUSEHOLD, "bool", False, "是", ["是否不愁吃"]),
    _c("clothing_secure", "不愁穿", HOUSEHOLD, "bool", False, "是", ["是否不愁穿"]),
    _c("farmland_mu", "耕地面积（亩）", HOUSEHOLD, "decimal", False, "2.5", ["耕地面积"], decimals=2),
    _c("irrigated_mu", "有效灌溉面积（亩）", HOUSEHOLD, "decimal", False, "1.5", ["有效灌溉面积"], decimals=2),
    _c("forest_mu", "林地面积（亩）", HOUSEHOLD, "decimal", False, "", ["林地面积"], decimals=2),
    _c("cooperative_member", "加入农民专业合作社", HOUSEHOLD, "bool", False, "否", ["是否加入农民专业合作社"]),
    _c("road_distance_km", "与村主干路距离（公里）", HOUSEHOLD, "decimal", False, "0.5", ["与村主干路距离"],
       decimals=2),
    _c("pairing_cadre", "帮扶责任人", HOUSEHOLD, "text", False, "测试帮扶人", []),
)

MEMBER_COLUMNS: tuple[Column, ...] = (
    _c("name", "姓名", MEMBER, "text", True, "测试甲", ["成员姓名"]),
    _c("document_type", "证件类型", MEMBER, "code", False, "居民身份证", [], codes.DocumentType,
       note="空白按居民身份证"),
    _c("id_number", "证件号码", MEMBER, "id", True, "430225199001019010", ["身份证号码", "身份证号", "证件号"],
       note="Excel 中请将该列设为文本格式"),
    _c("sex", "性别", MEMBER, "code", False, "男", [], codes.Sex, note="空白时取自身份证号码"),
    _c("birth_date", "出生日期", MEMBER, "date", False, "1990-01-01", [], note="空白时取自身份证号码"),
    _c("relation", "与户主关系", MEMBER, "code", True, "户主", [], codes.Relation),
    _c("ethnicity", "民族", MEMBER, "code", False, "汉族", [], codes.Ethnicity, note="空白按汉族"),
    _c("education_level", "文化程度", MEMBER, "code", False, "初中", [], codes.EducationLevel),
    _c("schooling_status", "在校生状况", MEMBER, "code", False, "非在校生", ["在校生情况"], codes.SchoolingStatus),
    _c("not_attending_reason", "义务教育阶段未上学原因", MEMBER, "code", False, "",
       ["失学或辍学原因", "未上学原因"], codes.NotAttendingReason),
    _c("health_status", "健康状况", MEMBER, "code", False, "健康", [], codes.HealthStatus),
    _c("disability_grade", "残疾等级", MEMBER, "code", False, "", [], codes.DisabilityGrade),
    _c("labour_capacity", "劳动技能", MEMBER, "code", False, "普通劳动力", ["劳动能力"], codes.LabourCapacity),
    _c("work_months", "务工时间（月）", MEMBER, "int", False, "6", ["务工时间", "务工月数"]),
    _c("work_place", "务工所在地", MEMBER, "code", False, "县外省内", ["务工情况"], codes.WorkPlace),
    _c("basic_medical_insurance", "参加基本医疗保险", MEMBER, "bool", False, "是",
       ["是否参加基本医疗保险", "是否参加城乡居民基本医疗保险"]),
    _c("serious_illness_insurance", "参加大病保险", MEMBER, "bool", False, "是", ["是否参加大病保险"]),
    _c("medical_aid", "享受医疗救助", MEMBER, "bool", False, "否", ["是否接受医疗救助", "是否享受医疗救助"]),
    _c("pension_insurance", "参加城乡居民基本养老保险", MEMBER, "bool", False, "是",
       ["是否参加城乡居民基本养老保险"]),
    _c("on_dibao", "享受低保", MEMBER, "bool", False, "否", ["是否享受低保"]),
    _c("is_tekun", "特困供养人员", MEMBER, "bool", False, "否", ["是否特困供养人员"]),
    _c("entered_on", "迁入（新增）日期", MEMBER, "date", False, "", ["新增日期", "迁入日期"]),
    _c("entry_reason", "新增原因", MEMBER, "code", False, "", [], codes.MemberChange),
    _c("left_on", "迁出（减少）日期", MEMBER, "date", False, "", ["减少日期", "迁出日期"]),
    _c("leave_reason", "减少原因", MEMBER, "code", False, "", [], codes.MemberChange),
)

INCOME_COLUMNS: tuple[Column, ...] = (
    _c("year", "年度", INCOME, "year", False, "2019", ["收入年度"], note="空白表示本行不含收入"),
    _c("wage", "工资性收入（含公益性岗位）", INCOME, "money", False, "12000", ["工资性收入"]),
    _c("public_welfare_post", "其中：公益性岗位收入", INCOME, "money", False, "0", ["公益性岗位收入"]),
    _c("business_income", "生产经营性收入", INCOME, "money", False, "3000", []),
    _c("business_expenses", "生产经营性支出", INCOME, "money", False, "800", []),
    _c("property_income", "财产性收入（含资产收益分红）", INCOME, "money", False, "500", ["财产性收入"]),
    _c("asset_dividend", "其中：资产收益扶贫分红", INCOME, "money", False, "300", ["资产收益扶贫分红"]),
    _c("family_planning", "计划生育金", INCOME, "money", False, "0", []),
    _c("dibao", "最低生活保障金", INCOME, "money", False, "0", ["低保金"]),
    _c("tekun", "特困人员救助供养金", INCOME, "money", False, "0", ["特困供养金"]),
    _c("pension", "养老金或离退休金", INCOME, "money", False, "1200", ["养老金"]),
    _c("ecological", "生态补偿金", INCOME, "money", False, "200", []),
    _c("other_transfer", "其他转移性收入", INCOME, "money", False, "0", []),
)

COLUMNS: tuple[Column, ...] = HOUSEHOLD_COLUMNS + MEMBER_COLUMNS + INCOME_COLUMNS
BY_KEY: dict[tuple[str, str], Column] = {(c.model, c.key): c for c in COLUMNS}
# Columns that belong to the household (repeated or merged on its member rows): household + income.
HOUSEHOLD_LEVEL: tuple[Column, ...] = HOUSEHOLD_COLUMNS + INCOME_COLUMNS
ERROR_COLUMN = "错误原因"  # added by the error workbook of a partial import


def _build_lookup() -> dict[str, Column]:
    lookup: dict[str, Column] = {}
    for col in COLUMNS:
        for name in (col.header, *col.aliases):
            key = normalize_header(name)
            if key in lookup and lookup[key] is not col:
                raise RuntimeError(f"layout: 列名 {name} 重复")
            lookup[key] = col
    return lookup


HEADER_LOOKUP: dict[str, Column] = _build_lookup()


def match_header(value) -> Column | None:
    """The column a header cell names (header or alias, normalised), or None."""
    return HEADER_LOOKUP.get(normalize_header(value))


def column_by_header(header: str) -> Column:
    """The column with this exact header (KeyError if none)."""
    col = match_header(header)
    if col is None:
        raise KeyError(header)
    return col


TYPE_LABELS = {"text": "文本", "id": "文本（证件号码）", "code": "代码或名称", "codes": "代码或名称（可多个）",
               "area": "12 位村级区划代码", "date": "日期", "year": "年份", "int": "整数", "decimal": "数值",
               "money": "金额（元）", "bool": "是/否"}


def write_template(path, rows_as_text: int = 2000):
    """Write the empty import workbook: sheet 导入 with the two-row header (group names merged above the
    column names, required columns marked ``*``; the ID and household-number columns formatted as text) and
    sheet 说明 with every column's type, codes and example. Returns the path."""
    from pathlib import Path

    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "导入"
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    col = 1
    for model, cols in ((HOUSEHOLD, HOUSEHOLD_COLUMNS), (MEMBER, MEMBER_COLUMNS), (INCOME, INCOME_COLUMNS)):
        ws.cell(1, col, GROUPS[model]).font = bold
        ws.merge_cells(start_row=1, start_column=col, end_row=1, end_column=col + len(cols) - 1)
        for c in cols:
            cell = ws.cell(2, col, c.header + ("*" if c.required else ""))
            cell.font, cell.fill = bold, fill
            cell.alignment = Alignment(wrap_text=True)
            letter = get_column_letter(col)
            ws.column_dimensions[letter].width = 22 if c.type in ("id", "area") else max(10, len(c.header) * 2)
            if c.type in ("id", "area", "text"):
                for r in range(3, 3 + rows_as_text):
                    ws.cell(r, col).number_format = "@"
            col += 1
    ws.freeze_panes = "A3"
    doc = wb.create_sheet("说明")
    doc.append(["列名", "别名", "类型", "必填", "可填代码（代码 名称）", "示例", "说明"])
    for c in COLUMNS:
        codes_text = "；".join(f"{v} {lab}" for v, lab in c.labels().items())
        doc.append([c.header, "、".join(c.aliases), TYPE_LABELS[c.type], "是" if c.required else "",
                    codes_text, c.example, c.note])
    doc.append([])
    doc.append(["每行一名家庭成员；户的各列（及年度收入）在该户各行重复填写，或纵向合并单元格。证件号码列须设为文本格式。"])
    path = Path(path)
    wb.save(path)
    return path
