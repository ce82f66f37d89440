"""Code lists of the 建档立卡 collection form (贫困户信息采集表), with the official Chinese labels.

Source: ../shared/reference/policy.md §5.3 (implementations of the national form, item numbers
A22 主要致贫原因, H8 住房 etc.). Codes are stored; labels are shown.

The labels are translatable (``gettext_lazy``, msgid = the official Chinese label): ``.label``,
``.choices``, ``get_FOO_display()``, form choices and the admin follow the request language. Files and
stored data are Chinese whatever the language (the importer matches Chinese labels, the export and the
template workbook write them, stored finding values quote them): data paths read the labels through
``zh_choices`` / ``zh_labels`` / ``zh_label``, never through ``.choices`` or ``.label``.
"""

from functools import cache

from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop


class HouseholdType(models.TextChoices):
    """贫困户属性."""

    ORDINARY = "1", _("一般贫困户")
    DIBAO = "2", _("低保贫困户")
    TEKUN_DISPERSED = "6", _("特困供养贫困户（分散供养）")
    TEKUN_CENTRALISED = "7", _("特困供养贫困户（集中供养）")


class PovertyCause(models.TextChoices):
    """致贫原因 A22 (main cause: single choice; other causes: multiple, never repeating the main)."""

    ILLNESS = "01", _("因病")
    DISABILITY = "02", _("因残")
    SCHOOLING = "03", _("因学")
    DISASTER = "04", _("因灾")
    LACK_LAND = "05", _("缺土地")
    LACK_WATER = "06", _("缺水")
    LACK_SKILLS = "07", _("缺技术")
    LACK_LABOUR = "08", _("缺劳动力")
    LACK_FUNDS = "09", _("缺资金")
    POOR_TRANSPORT = "10", _("交通条件落后")
    LACK_MOTIVATION = "11", _("自身发展动力不足")


class PovertyStatus(models.TextChoices):
    """脱贫属性 (the official enumeration is unconfirmed: policy.md §5.3; this is the common one)."""

    POOR = "poor", _("未脱贫")
    EXITED = "exited", _("已脱贫")
    RETURNED = "returned", _("返贫")


class IdentificationStandard(models.TextChoices):
    """识别标准."""

    NATIONAL = "national", _("国家标准")
    PROVINCIAL = "provincial", _("省定标准")
    CITY = "city", _("市定标准")


class HousingGrade(models.TextChoices):
    """房屋安全等级 (A, B safe; C 局部危房, D 整幢危房)."""

    A = "A", _("A级（安全）")
    B = "B", _("B级（基本安全）")
    C = "C", _("C级（局部危房）")
    D = "D", _("D级（整幢危房）")


class Relation(models.TextChoices):
    """与户主关系."""

    HEAD = "01", _("户主")
    SPOUSE = "02", _("配偶")
    SON = "03", _("之子")
    DAUGHTER = "04", _("之女")
    DAUGHTER_IN_LAW = "05", _("儿媳")
    SON_IN_LAW = "06", _("女婿")
    GRANDSON = "07", _("孙子")
    GRANDDAUGHTER = "08", _("孙女")
    DAUGHTERS_SON = "09", _("外孙子")
    DAUGHTERS_DAUGHTER = "10", _("外孙女")
    FATHER = "11", _("父")
    MOTHER = "12", _("母")
    FATHER_IN_LAW_W = "13", _("岳父")
    MOTHER_IN_LAW_W = "14", _("岳母")
    FATHER_IN_LAW_H = "15", _("公公")
    MOTHER_IN_LAW_H = "16", _("婆婆")
    GRANDFATHER = "17", _("祖父")
    GRANDMOTHER = "18", _("祖母")
    MATERNAL_GRANDFATHER = "19", _("外祖父")
    MATERNAL_GRANDMOTHER = "20", _("外祖母")
    OTHER = "99", _("其他")


class DocumentType(models.TextChoices):
    """证件类型."""

    RESIDENT_ID = "id", _("居民身份证")
    HOUSEHOLD_BOOK = "hukou", _("户口簿")
    MILITARY = "military", _("军官证/士兵证")
    OTHER = "other", _("其他证件")


class Sex(models.TextChoices):
    MALE = "1", _("男")
    FEMALE = "2", _("女")


class EducationLevel(models.TextChoices):
    """文化程度."""

    ILLITERATE = "1", _("文盲或半文盲")
    PRIMARY = "2", _("小学")
    JUNIOR = "3", _("初中")
    SENIOR = "4", _("高中")
    COLLEGE = "5", _("大专及以上")
    PRESCHOOL = "6", _("学龄前儿童")


class SchoolingStatus(models.TextChoices):
    """在校生状况."""

    NOT_IN_SCHOOL = "00", _("非在校生")
    PRESCHOOL = "10", _("学前教育")
    PRIMARY = "20", _("小学")
    JUNIOR = "30", _("七至九年级")
    SENIOR = "40", _("高中")
    VOCATIONAL_SECONDARY = "50", _("中职")
    VOCATIONAL_HIGHER = "60", _("高职（高专）")
    COLLEGE = "70", _("大专及以上")


class NotAttendingReason(models.TextChoices):
    """义务教育阶段未上学原因 / 失学或辍学原因."""

    HEALTH = "1", _("身体原因不具备就学条件")
    HOME_TEACHING = "2", _("送教上门")
    FINANCIAL = "3", _("经济困难")
    UNWILLING = "4", _("厌学或不愿就学")
    WORKING = "5", _("外出务工")
    OTHER = "9", _("其他")


class HealthStatus(models.TextChoices):
    """健康状况."""

    HEALTHY = "1", _("健康")
    CHRONIC = "2", _("长期慢性病")
    SERIOUS = "3", _("患有大病")
    DISABLED = "4", _("残疾")


class DisabilityGrade(models.TextChoices):
    """残疾等级 (GB/T 26341)."""

    GRADE_1 = "1", _("一级")
    GRADE_2 = "2", _("二级")
    GRADE_3 = "3", _("三级")
    GRADE_4 = "4", _("四级")


class LabourCapacity(models.TextChoices):
    """劳动技能 (2014–2020 list, plus 弱劳动力或半劳动力 from 2021)."""

    ORDINARY = "1", _("普通劳动力")
    SKILLED = "2", _("技能劳动力")
    WEAK = "5", _("弱劳动力或半劳动力")
    LOST = "3", _("丧失劳动力")
    NONE = "4", _("无劳动力")


class WorkPlace(models.TextChoices):
    """务工所在地."""

    IN_TOWN = "1", _("乡（镇）内")
    IN_COUNTY = "2", _("乡外县内")
    IN_PROVINCE = "3", _("县外省内")
    OUT_OF_PROVINCE = "4", _("省外")
    OTHER = "9", _("其他")


class MemberChange(models.TextChoices):
    """人员变更."""

    DEATH = "death", _("死亡")
    MARRIED_OUT = "married_out", _("嫁出")
    EMIGRATED = "emigrated", _("出国定居")
    IMPRISONED = "imprisoned", _("判刑收监")
    MARRIED_IN = "married_in", _("嫁入")
    NEWBORN = "newborn", _("新生儿")
    OTHER_IN = "other_in", _("其他转入")
    OTHER_OUT = "other_out", _("其他转出")


# The 56 ethnic groups (民族), as plain Chinese strings (``gettext_noop`` only marks them for translation).
ETHNICITIES = [
    gettext_noop("汉族"), gettext_noop("蒙古族"), gettext_noop("回族"), gettext_noop("藏族"), gettext_noop("维吾尔族"),
    gettext_noop("苗族"), gettext_noop("彝族"), gettext_noop("壮族"), gettext_noop("布依族"), gettext_noop("朝鲜族"),
    gettext_noop("满族"), gettext_noop("侗族"), gettext_noop("瑶族"), gettext_noop("白族"), gettext_noop("土家族"),
    gettext_noop("哈尼族"), gettext_noop("哈萨克族"), gettext_noop("傣族"), gettext_noop("黎族"), gettext_noop("傈僳族"),
    gettext_noop("佤族"), gettext_noop("畲族"), gettext_noop("高山族"), gettext_noop("拉祜族"), gettext_noop("水族"),
    gettext_noop("东乡族"), gettext_noop("纳西族"), gettext_noop("景颇族"), gettext_noop("柯尔克孜族"), gettext_noop("土族"),
    gettext_noop("达斡尔族"), gettext_noop("仫佬族"), gettext_noop("羌族"), gettext_noop("布朗族"), gettext_noop("撒拉族"),
    gettext_noop("毛南族"), gettext_noop("仡佬族"), gettext_noop("锡伯族"), gettext_noop("阿昌族"), gettext_noop("普米族"),
    gettext_noop("塔吉克族"), gettext_noop("怒族"), gettext_noop("乌孜别克族"), gettext_noop("俄罗斯族"), gettext_noop("鄂温克族"),
    gettext_noop("德昂族"), gettext_noop("保安族"), gettext_noop("裕固族"), gettext_noop("京族"), gettext_noop("塔塔尔族"),
    gettext_noop("独龙族"), gettext_noop("鄂伦春族"), gettext_noop("赫哲族"), gettext_noop("门巴族"), gettext_noop("珞巴族"),
    gettext_noop("基诺族"),
]
# GB/T 3304 numeric codes follow the order above (汉族 01 … 基诺族 56).
Ethnicity = models.TextChoices(
    "Ethnicity", [(f"E{i:02d}", (f"{i:02d}", _(name))) for i, name in enumerate(ETHNICITIES, 1)])


@cache
def _zh(cls) -> tuple[tuple[str, str], ...]:
    with translation.override(None):  # no translation active: a lazy label evaluates to its msgid
        return tuple((str(value), str(label)) for value, label in cls.choices)


def zh_choices(cls) -> list[tuple[str, str]]:
    """``cls.choices`` with the official Chinese labels as plain strings, whatever the active language.

    For every data path: import matching, export, the template workbook, stored messages and values."""
    return list(_zh(cls))


def zh_labels(cls) -> dict[str, str]:
    """Code → official Chinese label of ``cls`` (plain strings), whatever the active language."""
    return dict(_zh(cls))


def zh_label(cls, value) -> str:
    """The official Chinese label of code ``value`` of ``cls``; the value itself when it is not a code."""
    return zh_labels(cls).get(str(value), value)
