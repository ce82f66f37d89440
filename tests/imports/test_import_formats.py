"""Formats: CSV encodings, .xlsx (typed cells, merged household cells, two-row merged header), legacy .xls,
header normalisation and aliases, codes by code or label, full-width digits, dates."""

import datetime as dt

import pytest

from xiaokang.imports.readers import read_file
from xiaokang.imports.validate import Bad, parse_date
from xiaokang.registry.models import Household, Income, Member

from .conftest import HEADERS, pid, ID_A, ID_B, ID_C, ID_D, YL_VILLAGE, YL_VILLAGE2, base_rows, run, write_csv, write_xlsx


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings_are_detected(user, tmp_path, encoding):
    batch = run(write_csv(tmp_path / "a.csv", base_rows(), encoding=encoding), user)
    assert batch.status == "applied", batch.errors
    assert sorted(Member.objects.values_list("name", flat=True)) == ["测试丙", "测试乙", "测试甲"]


def test_xlsx_typed_cells_and_header_variants(user, tmp_path):
    # spaces, a non-breaking space, full-width parentheses/letters, an alias and a required marker
    headers = [" 户编号 ", "所在村代码*", "主要致贫原因", "识别年度", "姓\u00a0名", "身份证号码", "与户主关系", "出生日期",
               "自然村(组)", "收入年度", "工资性收入（含公益性岗位）", "参加基本医疗保险"]
    rows = [
        ["YL01", YL_VILLAGE, "因病", 2014, "测试甲", ID_A, "户主", dt.datetime(1970, 3, 1), "一组", 2019, 12000.5, "是"],
        ["YL01", YL_VILLAGE, "01", 2014.0, "测试丙", ID_C, "03", "2010年9月1日", "一组", 2019, 12000.5, "否"],
    ]
    batch = run(write_xlsx(tmp_path / "a.xlsx", rows, headers), user)
    assert batch.status == "applied", batch.errors
    h = Household.objects.get()
    assert (h.natural_village, h.main_cause, h.identified_year) == ("一组", "01", 2014)
    assert Income.objects.get().wage == __import__("decimal").Decimal("12000.50")
    c = Member.objects.get(id_number=ID_C)
    assert (c.relation, c.birth_date, c.basic_medical_insurance) == ("03", dt.date(2010, 9, 1), False)


def test_full_width_digits_and_stray_spaces_are_normalised(user, tmp_path):
    rows = [["ＹＬ０１", YL_VILLAGE, " 因病 ", "２０１４", " 测试甲 ", " " + ID_A.replace("0", "０") + " ", "户主", "", ""]]
    batch = run(write_csv(tmp_path / "a.csv", rows), user)
    assert batch.status == "applied", batch.errors
    m = Member.objects.get()
    assert (m.household.household_number, m.name, m.id_number) == ("YL01", "测试甲", ID_A)


def test_two_row_merged_header_and_vertically_merged_household_cells(user, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "采集表"
    ws["A1"] = "炎陵县建档立卡贫困户信息采集表"  # a title row above the header
    # household columns: one header cell merged over both header rows; members: a group name above
    for i, h in enumerate(["户编号", "所在村代码", "主要致贫原因", "识别年度"], 1):
        ws.cell(2, i, h)
        ws.merge_cells(start_row=2, start_column=i, end_row=3, end_column=i)
    ws.merge_cells("E2:G2")
    ws["E2"] = "家庭成员信息"
    for i, h in enumerate(["姓名", "证件号码", "与户主关系"], 5):
        ws.cell(3, i, h)
    # the household's cells merged vertically over its three member rows
    for col, value in zip("ABCD", ["YL01", YL_VILLAGE, "因病", 2014]):
        ws[f"{col}4"] = value
        ws.merge_cells(f"{col}4:{col}6")
    for r, (name, ident, rel) in enumerate([("测试甲", ID_A, "户主"), ("测试乙", ID_B, "配偶"), ("测试丙", ID_C, "之子")], 4):
        ws.cell(r, 5, name)
        ws.cell(r, 6, ident)
        ws.cell(r, 7, rel)
    ws["A7"], ws["B7"], ws["C7"], ws["D7"], ws["E7"], ws["F7"], ws["G7"] = (
        "YL02", YL_VILLAGE2, "缺土地", 2016, "测试丁", ID_D, "户主")
    path = tmp_path / "merged.xlsx"
    wb.save(path)
    sheets, issues = read_file(path)
    assert issues == [] and sheets[0].header_rows == (2, 3)
    batch = run(path, user)
    assert batch.status == "applied", batch.errors
    assert (batch.households_new, batch.members_new) == (2, 4)
    assert Member.objects.get(id_number=ID_C).household.household_number == "YL01"
    assert Household.objects.get(household_number="YL02").main_cause == "05"


def test_two_row_header_in_csv_with_group_names(user, tmp_path):
    groups = ["户基本信息", "", "", "", "家庭成员信息", "", "", "年度收入（元）", ""]
    path = tmp_path / "two.csv"
    with open(path, "w", encoding="utf-8") as f:
        import csv

        w = csv.writer(f)
        w.writerow(groups)
        w.writerow(HEADERS)
        w.writerows(base_rows())
    batch = run(path, user)
    assert batch.status == "applied", batch.errors
    assert batch.members_new == 3


def test_legacy_xls(user, tmp_path):
    import xlwt

    wb = xlwt.Workbook()
    ws = wb.add_sheet("导入")
    for c, h in enumerate(HEADERS + ["出生日期"]):
        ws.write(0, c, h)
    date_style = xlwt.XFStyle()
    date_style.num_format_str = "YYYY-MM-DD"
    for r, row in enumerate(base_rows(), 1):
        for c, v in enumerate(row):
            ws.write(r, c, v)
    ws.write(1, 9, dt.date(1970, 3, 1), date_style)
    # household YL03: its cells merged vertically over its two member rows (Excel rows 5–6)
    for c, v in enumerate(["YL03", YL_VILLAGE, "缺资金", "2016"]):
        ws.write_merge(4, 5, c, c, v)
    e, f = pid(dt.date(1960, 1, 1), 907), pid(dt.date(1962, 1, 1), 908)
    for r, (name, ident, rel) in ((4, ("测试戊", e, "户主")), (5, ("测试己", f, "配偶"))):
        ws.write(r, 4, name)
        ws.write(r, 5, ident)
        ws.write(r, 6, rel)
    path = tmp_path / "legacy.xls"
    wb.save(str(path))
    batch = run(path, user)
    assert batch.status == "applied", batch.errors
    assert Member.objects.get(id_number=ID_A).birth_date == dt.date(1970, 3, 1)
    assert batch.households_new == 3
    assert Member.objects.get(id_number=f).household.household_number == "YL03"
    assert Household.objects.get(household_number="YL03").main_cause == "09"


@pytest.mark.parametrize("text,expected", [
    ("2019-04-01", dt.date(2019, 4, 1)), ("2019/4/1", dt.date(2019, 4, 1)), ("2019.4.1", dt.date(2019, 4, 1)),
    ("2019年4月1日", dt.date(2019, 4, 1)), ("20190401", dt.date(2019, 4, 1)), ("2019-04-01 00:00:00", dt.date(2019, 4, 1)),
    (dt.datetime(2019, 4, 1), dt.date(2019, 4, 1)), (dt.date(2019, 4, 1), dt.date(2019, 4, 1)),
])
def test_date_forms(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text,reason", [
    ("4/1/2019", "日期有歧义"), ("01/04/2019", "日期有歧义"), ("19-4-1", "日期有歧义"), ("190401", "日期有歧义"),
    ("2019-4", "日期不完整"), ("2019-02-30", "日期不存在"), ("去年", "日期格式无法识别"), (43556.0, "不是日期单元格"),
])
def test_bad_and_ambiguous_dates_are_rejected(text, reason):
    with pytest.raises(Bad, match=reason):
        parse_date(text)


def test_fifteen_digit_id_is_upgraded_and_excel_numbers_in_text_columns(user, tmp_path):
    old = "430225700301901"  # 15-digit number of 1970-03-01, sequence 901 (upgraded to 18 digits)
    rows = [["YL01", YL_VILLAGE, "因病", 2014, "测试甲", old, "户主", 2019, 12000, 13800000000]]
    batch = run(write_xlsx(tmp_path / "a.xlsx", rows, HEADERS + ["联系电话"]), user)
    assert batch.status == "applied", batch.errors
    m = Member.objects.get()
    assert (m.id_number, m.birth_date, m.sex) == ("43022519700301901" + m.id_number[17], dt.date(1970, 3, 1), "1")
    from xiaokang.registry.idnumber import validate_id_number

    assert validate_id_number(old).normalized == m.id_number
    assert Household.objects.get().phone == "13800000000"


def test_uploaded_file_object(user, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from xiaokang.imports import services

    data = write_csv(tmp_path / "a.csv", base_rows()).read_bytes()
    batch = services.stage(SimpleUploadedFile("上传.csv", data), user)
    assert (batch.file_name, batch.size_bytes, batch.area_code) == ("上传.csv", len(data), "430225")
    batch = services.apply(services.validate(batch), user)
    assert batch.status == "applied" and batch.members_new == 3


def test_blank_household_cells_below_the_first_row_mean_same_as_above(user, tmp_path):
    rows = base_rows()
    rows[0][3] = ""          # 识别年度 blank in the first row of YL01, given in the second
    rows[1][1] = rows[1][2] = rows[1][7] = rows[1][8] = ""  # village, cause, income blank in the second row
    batch = run(write_csv(tmp_path / "a.csv", rows), user)
    assert batch.status == "applied", batch.errors
    h = Household.objects.get(household_number="YL01")
    assert (h.identified_year, h.area_id, h.main_cause) == (2014, YL_VILLAGE, "01")
    assert Income.objects.get(household=h).wage == __import__("decimal").Decimal("12000.00")
