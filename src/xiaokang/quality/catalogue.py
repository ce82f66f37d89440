"""The data-quality rule catalogue (数据清洗规则目录): one entry per rule, with a stable code.

Each rule has a stable code (``Q01_ID_INVALID`` …), a severity (``error`` 错误 / ``warning`` 疑点), the
subject it is about (``household`` 户 or ``member`` 成员), a Chinese and an English title (``title_in``:
the quality pages and the dashboard show the one of the request language), a Chinese and an English
message template, and the source section of ../shared/reference/policy.md. The codes and messages are
shared with import validation (``xiaokang.imports``) for the checks that overlap (invalid ID number,
sex/birth date vs ID, duplicate person, work months): keep them stable once written — stored findings
refer to them.

Message templates use ``str.format`` fields; ``{value}`` is the offending value as stored in the finding
(``Finding.value``), ``{name}`` the member's name where the subject is a member, and the thresholds
(``{minor_age}``, ``{labour_age_min}`` …) come from the parameters of the year checked
(``policy/parameters/quality.yaml``), never from this file.
This module does not import Django (the import helper and the rules read it as plain data).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

ERROR, WARNING = "error", "warning"
HOUSEHOLD, MEMBER = "household", "member"
SEVERITY_LABELS = {ERROR: "错误", WARNING: "疑点"}
SUBJECT_LABELS = {HOUSEHOLD: "户", MEMBER: "成员"}
SEVERITY_LABELS_EN = {ERROR: "Error", WARNING: "Suspect"}
SUBJECT_LABELS_EN = {HOUSEHOLD: "Household", MEMBER: "Member"}


def severity_label(severity: str, lang: str = "zh") -> str:
    return (SEVERITY_LABELS if lang.startswith("zh") else SEVERITY_LABELS_EN)[severity]


def subject_label(subject: str, lang: str = "zh") -> str:
    return (SUBJECT_LABELS if lang.startswith("zh") else SUBJECT_LABELS_EN)[subject]


@dataclass(frozen=True)
class QualityRule:
    """One data-quality rule (数据清洗规则)."""

    code: str
    severity: str
    subject: str
    title: str  # short Chinese name, for filters and counts
    title_en: str  # its English name (the UI in English)
    message: str  # Chinese message template
    message_en: str
    source: str  # policy.md section and the checklist it comes from

    def title_in(self, lang: str = "zh") -> str:
        """The short name in ``lang`` (``zh…``: Chinese; any other: English)."""
        return self.title if lang.startswith("zh") else self.title_en

    def render(self, value: str | None = "", name: str | None = "", lang: str = "zh",
               thresholds: dict | None = None) -> str:
        """The message with ``{value}``, ``{name}`` and the thresholds filled in.

        ``thresholds``: ``quality.services.thresholds(year)`` (the parameters of the finding's year, with
        administrator-entered values); by default the shipped parameter files in force today. A threshold
        that cannot be resolved reads "…".
        """
        template = self.message if lang.startswith("zh") else self.message_en
        fields = _Fields(default_thresholds() if thresholds is None else thresholds)
        fields.update(value=value if value not in (None, "") else "—", name=name or "")
        return template.format_map(fields)


class _Fields(dict):
    def __missing__(self, key):
        return "…"


@lru_cache(maxsize=1)
def _file_thresholds(year: int) -> tuple:
    from xiaokang.policy.params import ParameterError, file_parameters

    from .rules import QualityParams, thresholds

    try:
        return tuple(thresholds(QualityParams.resolve(file_parameters(), year)).items())
    except ParameterError:
        return ()


def default_thresholds() -> dict[str, str]:
    """The thresholds of the shipped parameter files in force this year (no database needed)."""
    return dict(_file_thresholds(dt.date.today().year))


_S24 = "policy.md §2.4（2017 年数据清洗清单）"
_S54 = "policy.md §5.4（2017 年数据清洗清单）"
_S54_2023 = "policy.md §5.4（2023 年监测数据规则 2_01_011）"

RULES: tuple[QualityRule, ...] = (
    QualityRule("Q01_ID_INVALID", ERROR, MEMBER, "证件号码无效", "Invalid ID number",
                "{name} 的证件号码无效：{value}",
                "{name}: invalid ID number: {value}", _S54 + "；GB 11643-1999 校验码"),
    QualityRule("Q02_DUPLICATE_PERSON", ERROR, MEMBER, "同一人在多户", "Same person in several households",
                "{name} 的证件号码同时出现在其他户：{value}",
                "{name}: the same ID number is in another household: {value}", _S54 + "（人员跨区域重复）"),
    QualityRule("Q03_SEX_ID_MISMATCH", ERROR, MEMBER, "性别与证件号码不一致", "Sex does not match the ID number",
                "{name} 的性别与证件号码不一致：{value}",
                "{name}: sex does not match the ID number: {value}", _S54 + "；GB 11643-1999 第 17 位"),
    QualityRule("Q04_BIRTH_ID_MISMATCH", ERROR, MEMBER, "出生日期与证件号码不一致",
                "Birth date does not match the ID number",
                "{name} 的出生日期与证件号码不一致：{value}",
                "{name}: birth date does not match the ID number: {value}", _S54 + "；GB 11643-1999 第 7–14 位"),
    QualityRule("Q05_NO_HEAD", ERROR, HOUSEHOLD, "无户主", "No household head",
                "该户没有户主（年底在册成员中无“与户主关系=户主”）",
                "The household has no head among its members at year end", _S54),
    QualityRule("Q06_MULTIPLE_HEADS", ERROR, HOUSEHOLD, "多个户主", "Several household heads",
                "该户有多个户主：{value} 人",
                "The household has more than one head: {value}", _S54),
    QualityRule("Q07_HEAD_UNDER_16", WARNING, MEMBER, "户主年龄过小", "Household head too young",
                "户主 {name} 未满 {minor_age} 周岁：{value} 岁",
                "Head {name} is under {minor_age}: aged {value}", _S54 + "（户主年龄）"),
    QualityRule("Q08_SCHOOLING_BLANK", ERROR, MEMBER, "在校生状况为空", "Schooling status blank",
                "{name}（{value} 岁）在校生状况为空（{schooling_age_min}–{schooling_age_max} 周岁须填写）",
                "{name} (aged {value}): schooling status is blank (required at ages {schooling_age_min}–{schooling_age_max})",
                _S54),
    QualityRule("Q09_LABOUR_BLANK", ERROR, MEMBER, "劳动技能为空", "Labour capacity blank",
                "{name}（{value} 岁）劳动技能为空（{labour_age_min}–{labour_age_max} 周岁须填写）",
                "{name} (aged {value}): labour capacity is blank (required at ages {labour_age_min}–{labour_age_max})",
                _S54),
    QualityRule("Q10_MINOR_NOT_NO_LABOUR", ERROR, MEMBER, "未成年人未标无劳动力",
                "Minor not marked 'no labour capacity'",
                "{name} 未满 {minor_age} 周岁，劳动技能应为“无劳动力”：{value}",
                "{name} is under {minor_age} and should be marked 'no labour capacity': {value}", _S54_2023),
    QualityRule("Q11_TEKUN_WITH_LABOURER", WARNING, MEMBER, "五保/特困户有劳动力",
                "Wubao/tekun household with a labourer",
                "五保/特困供养户成员 {name} 为 {labour_age_min}–{labour_age_max} 周岁劳动力：{value}",
                "Member {name} of a 五保/特困 household is a labourer aged {labour_age_min}–{labour_age_max}: {value}",
                _S54),
    QualityRule("Q12_DIBAO_HOUSEHOLD_NO_DIBAO", ERROR, HOUSEHOLD, "低保贫困户无人享受低保",
                "Dibao household with no member on dibao",
                "低保贫困户中没有成员享受低保",
                "A 低保 household where no member is on 低保", _S54),
    QualityRule("Q13_ORDINARY_WITH_DIBAO", ERROR, HOUSEHOLD, "一般贫困户有人享受低保",
                "Ordinary poor household with members on dibao",
                "一般贫困户中有成员享受低保：{value} 人",
                "An ordinary poor household with members on 低保: {value}", _S54),
    QualityRule("Q14_CAUSE_ILLNESS_NO_SICK", WARNING, HOUSEHOLD, "因病致贫无患病成员", "Cause illness, no sick member",
                "主要致贫原因为因病，但没有患长期慢性病或大病的成员",
                "Main cause is illness but no member is chronically or seriously ill", _S54),
    QualityRule("Q15_CAUSE_SCHOOLING_NO_STUDENT", WARNING, HOUSEHOLD, "因学致贫无在校生", "Cause schooling, no student",
                "主要致贫原因为因学，但没有在校生",
                "Main cause is schooling but no member is a student", _S54),
    QualityRule("Q16_CAUSE_DISABILITY_NO_DISABLED", WARNING, HOUSEHOLD, "因残致贫无残疾成员",
                "Cause disability, no disabled member",
                "主要致贫原因为因残，但没有残疾成员",
                "Main cause is disability but no member is disabled", _S54),
    QualityRule("Q17_CAUSE_REPEATED", ERROR, HOUSEHOLD, "其他致贫原因与主要原因重复",
                "Other causes repeat the main cause",
                "其他致贫原因重复了主要致贫原因：{value}",
                "The other causes repeat the main cause: {value}", "policy.md §5.3（其他致贫原因不得与主要原因重复）"),
    QualityRule("Q18_INCOME_BLANK", ERROR, HOUSEHOLD, "人均纯收入为空", "Per-capita net income blank",
                "人均纯收入为空（{value}）",
                "Per-capita net income is blank ({value})", _S24),
    QualityRule("Q19_INCOME_NOT_POSITIVE", ERROR, HOUSEHOLD, "人均纯收入不大于零",
                "Per-capita net income zero or negative",
                "人均纯收入小于等于 0：{value} 元",
                "Per-capita net income is zero or negative: {value} yuan", _S24),
    QualityRule("Q20_INCOME_TOO_HIGH", ERROR, HOUSEHOLD, "人均纯收入过高", "Per-capita net income too high",
                "人均纯收入超过 {income_max} 元：{value} 元",
                "Per-capita net income above {income_max} yuan: {value} yuan", _S24),
    QualityRule("Q21_BUSINESS_NO_EXPENSES", WARNING, HOUSEHOLD, "有经营收入无经营支出",
                "Business income without business expenses",
                "有生产经营性收入但无生产经营性支出：收入 {value} 元",
                "Business income without business expenses: income {value} yuan", _S24),
    QualityRule("Q22_WORK_MONTHS_RANGE", ERROR, MEMBER, "务工时间超出范围", "Work months out of range",
                "{name} 的务工时间超出 {work_months_min}–{work_months_max} 个月：{value}",
                "{name}: work months outside {work_months_min}–{work_months_max}: {value}", _S54),
    QualityRule("Q23_FARMLAND_PER_PERSON", WARNING, HOUSEHOLD, "人均耕地面积过大", "Farmland per person too large",
                "人均耕地面积超过 {farmland_max} 亩：{value}",
                "Farmland above {farmland_max} mu per person: {value}", _S54),
    QualityRule("Q24_NO_PAIRING_CADRE", ERROR, HOUSEHOLD, "无帮扶责任人", "No pairing cadre",
                "未填写帮扶责任人",
                "No pairing cadre recorded", _S54),
)

BY_CODE: dict[str, QualityRule] = {r.code: r for r in RULES}
CODES: tuple[str, ...] = tuple(BY_CODE)
CHOICES: list[tuple[str, str]] = [(r.code, f"{r.code[:3]} {r.title}") for r in RULES]
CHOICES_EN: list[tuple[str, str]] = [(r.code, f"{r.code[:3]} {r.title_en}") for r in RULES]


def choices(lang: str = "zh") -> list[tuple[str, str]]:
    """(code, "Q01 title") of every rule, titles in ``lang`` (the filter of the quality pages)."""
    return CHOICES if lang.startswith("zh") else CHOICES_EN


# The checks import validation shares (imports reuse the code and the message).
ID_INVALID = "Q01_ID_INVALID"
DUPLICATE_PERSON = "Q02_DUPLICATE_PERSON"
SEX_ID_MISMATCH = "Q03_SEX_ID_MISMATCH"
BIRTH_ID_MISMATCH = "Q04_BIRTH_ID_MISMATCH"
WORK_MONTHS_RANGE = "Q22_WORK_MONTHS_RANGE"


def get(code: str) -> QualityRule:
    """The rule with ``code``. Raises KeyError (with the code) for an unknown one."""
    return BY_CODE[code]


def render(code: str, value: str | None = "", name: str | None = "", lang: str = "zh",
           thresholds: dict | None = None) -> str:
    """The message of rule ``code`` for one finding (``{value}``, ``{name}``, thresholds filled in)."""
    return BY_CODE[code].render(value, name, lang, thresholds)
