"""English mode (language cookie ``django_language=en`` or ``translation.override("en")``): the code labels of
the collection form and the data-quality rule titles show in English in the UI, while everything that is data
stays Chinese — the importer matches Chinese labels, the export and the template workbook write them, the
stored finding values quote them (``registry.codes.zh_choices`` / ``zh_labels``)."""

import csv
import datetime as dt
import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

import sample_data as sample  # tests/sample_data.py
from xiaokang.imports import export as E
from xiaokang.imports import layout as L
from xiaokang.imports import services
from xiaokang.quality import catalogue
from xiaokang.quality.models import Finding
from xiaokang.quality.services import run_checks
from xiaokang.registry import codes
from xiaokang.registry.idnumber import make_id_number
from xiaokang.registry.models import Household, Member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _import_dir(settings, tmp_path):
    settings.XIAOKANG_IMPORT_DIR = tmp_path / "uploads"


@pytest.fixture
def data(db):
    return sample.build()


def _client(user, lang="en"):
    c = Client()
    c.force_login(user)
    c.cookies.load({"django_language": lang})
    return c


def _run(path, user):
    batch = services.stage(path, user, False)
    batch = services.validate(batch)
    if batch.status == "validated":
        batch = services.apply(batch, user)
    return batch


# ------------------------------------------------------------------------------------------- the labels


def test_labels_follow_the_language_and_zh_helpers_do_not():
    with translation.override("en"):
        assert codes.PovertyCause.ILLNESS.label == "Illness"
        assert codes.HousingGrade("A").label == "Grade A (safe)"
        assert dict(codes.HouseholdType.choices)["2"] == "Poor household on subsistence allowance (dibao)"
        assert codes.Ethnicity("01").label == "Han"
        assert codes.zh_label(codes.PovertyCause, "01") == "因病"
        assert codes.zh_labels(codes.Relation)["01"] == "户主"
        assert ("08", "缺劳动力") in codes.zh_choices(codes.PovertyCause)
        assert codes.zh_label(codes.Sex, "x") == "x"  # not a code: the value itself
        assert L.BY_KEY[L.MEMBER, "labour_capacity"].labels()["1"] == "普通劳动力"
    with translation.override("zh-hans"):
        assert codes.PovertyCause.ILLNESS.label == "因病"


def test_every_code_label_has_an_english_translation():
    classes = [v for v in vars(codes).values()
               if isinstance(v, type) and issubclass(v, codes.models.TextChoices) and v is not codes.models.TextChoices]
    assert len(classes) >= 17
    with translation.override("en"):
        untranslated = [(cls.__name__, value, label) for cls in classes for value, label in codes.zh_choices(cls)
                        if str(dict(cls.choices)[value]) == label]
    # the only labels that read the same in English: none
    assert untranslated == []


# ------------------------------------------------------------------------------------------------ pages


def test_household_page_in_english_shows_english_code_labels(data):
    user = sample.make_user("yl", area=data.yl)
    html = _client(user).get(reverse("household_detail", args=[data.h1.pk])).content.decode()
    assert "Illness" in html and "因病" not in html  # main cause 01
    assert "Ordinary poor household" in html and "一般贫困户" not in html
    assert "Spouse" in html and "配偶" not in html
    assert "Healthy" in html and "Ordinary labour" in html
    zh = _client(user, "zh-hans").get(reverse("household_detail", args=[data.h1.pk])).content.decode()
    assert "因病" in zh and "Illness" not in zh


def test_punctuation_follows_the_language(data):
    """Full-width punctuation around labels (管辖区域：, 残疾（二级）) is Chinese; English pages use ASCII."""
    m = data.h1.members.order_by("pk").first()
    Member.objects.filter(pk=m.pk).update(health_status="4", disability_grade="2")
    user = sample.make_user("yl", area=data.yl)
    en = _client(user).get(reverse("household_detail", args=[data.h1.pk])).content.decode()
    assert "Jurisdiction: <strong>炎陵县 (430225)</strong>" in en and "：<strong>" not in en
    assert "<td>Disabled (Grade 2)</td>" in en
    zh = _client(user, "zh-hans").get(reverse("household_detail", args=[data.h1.pk])).content.decode()
    assert "管辖区域：<strong>炎陵县（430225）</strong>" in zh and "<td>残疾（二级）</td>" in zh
    # form labels: Django's label suffix, full-width in Chinese (the zh_Hans catalogue), ASCII in English
    admin = sample.make_user("yl_admin2", area=data.yl, role="county_admin")
    zh = _client(admin, "zh-hans").get(reverse("import_upload")).content.decode()
    assert "文件（.xlsx / .xls / .csv）：</label>" in zh
    en = _client(admin).get(reverse("import_upload")).content.decode()
    assert "):</label>" in en and "：</label>" not in en


def test_household_list_filters_in_english(data):
    user = sample.make_user("yl", area=data.yl)
    r = _client(user).get(reverse("household_list"))
    html = r.content.decode()
    assert ">Lack of land</option>" in html and "缺土地" not in html  # filter and H3's row
    assert ">Poor household on subsistence allowance (dibao)</option>" in html


def test_household_page_other_causes_in_english(data):
    Household.objects.filter(pk=data.h1.pk).update(other_causes="05,09")
    user = sample.make_user("yl", area=data.yl)
    html = _client(user).get(reverse("household_detail", args=[data.h1.pk])).content.decode()
    assert "Lack of land、Lack of funds" in html


# ----------------------------------------------------------------------------------------------- import


def test_import_in_english_matches_chinese_labels(data, tmp_path):
    Household.objects.all().delete()
    user = sample.make_user("yl", area=data.yl)
    a, b = make_id_number("430225", dt.date(1970, 3, 1), 901), make_id_number("430225", dt.date(1972, 5, 1), 902)
    headers = ["户编号", "所在村代码", "贫困户属性", "主要致贫原因", "识别年度", "姓名", "证件号码", "与户主关系",
               "劳动技能", "住房安全等级", "年度", "工资性收入"]
    rows = [["EN01", data.yl_a.code, "低保贫困户", "因病", "2014", "测试甲", a, "户主", "普通劳动力", "A级（安全）",
             "2019", "12000"],
            ["EN01", data.yl_a.code, "低保贫困户", "因病", "2014", "测试乙", b, "配偶", "弱劳动力或半劳动力",
             "A级（安全）", "2019", "12000"]]
    path = tmp_path / "en.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows([headers, *rows])
    with translation.override("en"):
        batch = _run(path, user)
    assert batch.status == "applied", batch.errors
    h = Household.objects.get(household_number="EN01")
    assert (h.household_type, h.main_cause, h.housing_grade) == ("2", "01", "A")
    got = dict(Member.objects.filter(household=h).values_list("relation", "labour_capacity"))
    assert got == {"01": "1", "02": "5"}


def test_import_errors_stay_chinese_in_english(data, tmp_path):
    user = sample.make_user("yl", area=data.yl)
    a = make_id_number("430225", dt.date(1970, 3, 1), 901)  # a man
    path = tmp_path / "bad.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([
            ["户编号", "所在村代码", "主要致贫原因", "识别年度", "姓名", "证件号码", "性别", "与户主关系"],
            ["EN02", data.yl_a.code, "Illness", "2014", "测试甲", a, "女", "户主"],
        ])
    with translation.override("en"):
        batch = _run(path, user)
    assert batch.status == "failed"
    reasons = " ".join(e["reason"] for e in batch.errors)
    assert "不是有效的主要致贫原因" in reasons and "01 因病" in reasons  # the English label is not accepted
    assert "填写为女，证件号码为男" in reasons  # sex vs ID number, with the Chinese labels


# ----------------------------------------------------------------------------------------------- export


def _csv_rows(raw: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_export_in_english_writes_chinese_labels_and_reimports(data, tmp_path):
    out = tmp_path / "export.csv"
    with translation.override("en"):
        E.export_file(out, year=2019)
    rows = _csv_rows(out.read_bytes())
    col = {h: i for i, h in enumerate(rows[0])}
    text = out.read_text(encoding="utf-8-sig")
    assert "Illness" not in text and "Head" not in text and "Male" not in text
    zhang = next(r for r in rows[1:] if r[col["姓名"]] == "张三")
    assert (zhang[col["主要致贫原因"]], zhang[col["与户主关系"]], zhang[col["性别"]], zhang[col["劳动技能"]]) == (
        "因病", "户主", "男", "普通劳动力")
    assert zhang[col["贫困户属性"]] == "一般贫困户" and zhang[col["住房安全等级"]] == "A级（安全）"

    keys = ("household_number", "household_type", "main_cause", "poverty_status", "housing_grade")
    before = sorted(Household.objects.values_list(*keys))
    members_before = sorted(Member.objects.filter(left_on__isnull=True).values_list(
        "id_number", "relation", "sex", "labour_capacity", "health_status", "schooling_status"))
    Household.objects.all().delete()
    admin = sample.make_user("root", superuser=True, role="system_admin")
    with translation.override("en"):
        batch = _run(out, admin)
    assert batch.status == "applied", batch.errors
    assert sorted(Household.objects.values_list(*keys)) == before
    assert sorted(Member.objects.filter(left_on__isnull=True).values_list(
        "id_number", "relation", "sex", "labour_capacity", "health_status", "schooling_status")) == members_before


def test_web_export_and_template_in_english_are_chinese(data):
    c = _client(sample.make_user("yl", area=data.yl))
    r = c.post(reverse("import_export"), {"fmt": "csv", "year": "2019"})
    assert r.status_code == 200
    raw = b"".join(r.streaming_content) if r.streaming else r.content
    text = raw.decode("utf-8-sig")
    assert "因病" in text and "户主" in text and "Illness" not in text and "Head" not in text
    r = c.get(reverse("import_template"))
    wb = load_workbook(io.BytesIO(b"".join(r.streaming_content)))
    codes_of = {row[0]: row[4] for row in wb["说明"].iter_rows(min_row=2, values_only=True) if row and row[0]}
    assert "01 因病" in codes_of["主要致贫原因"] and "Illness" not in codes_of["主要致贫原因"]
    assert "01 户主" in codes_of["与户主关系"]


# ------------------------------------------------------------------------------------------ data quality


def test_finding_values_stay_chinese_when_checked_in_english(data):
    with translation.override("en"):
        run_checks(None, 2020)
    f = Finding.objects.get(rule_code="Q10_MINOR_NOT_NO_LABOUR")  # 李小四, aged 10, 普通劳动力
    assert "普通劳动力" in f.value and "Ordinary" not in f.value
    assert "普通劳动力" in f.message("zh")
    with translation.override("en"):
        assert "普通劳动力" in f.message("en")  # the stored value is quoted as stored


def test_quality_pages_show_english_rule_titles(data):
    run_checks(None, 2020)  # every sample household lacks a pairing cadre (Q24)
    user = sample.make_user("yl", area=data.yl)
    c = _client(user)
    r = c.get(reverse("quality_findings"))
    html = r.content.decode()
    assert "No pairing cadre" in html and catalogue.get("Q24_NO_PAIRING_CADRE").title not in html
    assert ">Q24 No pairing cadre</option>" in html  # the rule filter
    by_rule = {row["code"]: row for row in r.context["by_rule"]}
    assert (by_rule["Q24_NO_PAIRING_CADRE"]["severity"], by_rule["Q24_NO_PAIRING_CADRE"]["subject"]) == (
        "Error", "Household")
    zh = _client(user, "zh-hans").get(reverse("quality_findings")).content.decode()
    assert "无帮扶责任人" in zh and "No pairing cadre" not in zh
    # the dashboard's counts by rule
    dash = c.get(reverse("dashboard")).content.decode()
    assert "No pairing cadre" in dash and "无帮扶责任人" not in dash
    # the findings export follows the page's language (title and message); the stored value stays Chinese
    r = c.get(reverse("quality_export"), {"format": "csv", "rule": "Q10_MINOR_NOT_NO_LABOUR"})
    rows = _csv_rows(r.content)
    col = {h: i for i, h in enumerate(rows[0])}
    assert rows[1][col["规则"]] == "Minor not marked 'no labour capacity'"
    assert "普通劳动力" in rows[1][col["疑点值"]]


def test_workflow_step_names_in_english(data):
    """The steps of the exit and monitoring processes are translated on the pages (and in the API's labels
    under an English request); their codes never change."""
    from xiaokang.monitoring.processes import RISK_ELIMINATION_PROCESS
    from xiaokang.workflow.processes import HOUSEHOLD_EXIT_PROCESS

    user = sample.make_user("yl", area=data.yl)
    en = _client(user).get(reverse("workflow_list")).content.decode()
    assert ">Democratic appraisal (0)</option>" in en and "Removal from the poor list (0)" in en
    assert "民主评议" not in en
    zh = _client(user, "zh-hans").get(reverse("workflow_list")).content.decode()
    assert ">民主评议（0）</option>" in zh
    with translation.override("en"):
        assert [str(s.label) for s in RISK_ELIMINATION_PROCESS.steps] == [
            "Village verification and proposal of risk elimination", "Township review", "County decision"]
    assert [s.code for s in HOUSEHOLD_EXIT_PROCESS.steps][:2] == ["appraisal", "verification"]
