"""Code lists of the 建档立卡 collection form (贫困户信息采集表), with the official Chinese labels.

Source: ../shared/reference/policy.md §5.3 (implementations of the national form, item numbers
A22 主要致贫原因, H8 住房 etc.). Codes are stored; labels are shown.
"""

from django.db import models


class HouseholdType(models.TextChoices):
    """贫困户属性."""

    ORDINARY = "1", "一般贫困户"
    DIBAO = "2", "低保贫困户"
    TEKUN_DISPERSED = "6", "特困供养贫困户（分散供养）"
    TEKUN_CENTRALISED = "7", "特困供养贫困户（集中供养）"


class PovertyCause(models.TextChoices):
    """致贫原因 A22 (main cause: single choice; other causes: multiple, never repeating the main)."""

    ILLNESS = "01", "因病"
    DISABILITY = "02", "因残"
    SCHOOLING = "03", "因学"
    DISASTER = "04", "因灾"
    LACK_LAND = "05", "缺土地"
    LACK_WATER = "06", "缺水"
    LACK_SKILLS = "07", "缺技术"
    LACK_LABOUR = "08", "缺劳动力"
    LACK_FUNDS = "09", "缺资金"
    POOR_TRANSPORT = "10", "交通条件落后"
    LACK_MOTIVATION = "11", "自身发展动力不足"


class PovertyStatus(models.TextChoices):
    """脱贫属性 (the official enumeration is unconfirmed: policy.md §5.3; this is the common one)."""

    POOR = "poor", "未脱贫"
    EXITED = "exited", "已脱贫"
    RETURNED = "returned", "返贫"


class IdentificationStandard(models.TextChoices):
    """识别标准."""

    NATIONAL = "national", "国家标准"
    PROVINCIAL = "provincial", "省定标准"
    CITY = "city", "市定标准"


class HousingGrade(models.TextChoices):
    """房屋安全等级 (A, B safe; C 局部危房, D 整幢危房)."""

    A = "A", "A级（安全）"
    B = "B", "B级（基本安全）"
    C = "C", "C级（局部危房）"
    D = "D", "D级（整幢危房）"


class Relation(models.TextChoices):
    """与户主关系."""

    HEAD = "01", "户主"
    SPOUSE = "02", "配偶"
    SON = "03", "之子"
    DAUGHTER = "04", "之女"
    DAUGHTER_IN_LAW = "05", "儿媳"
    SON_IN_LAW = "06", "女婿"
    GRANDSON = "07", "孙子"
    GRANDDAUGHTER = "08", "孙女"
    DAUGHTERS_SON = "09", "外孙子"
    DAUGHTERS_DAUGHTER = "10", "外孙女"
    FATHER = "11", "父"
    MOTHER = "12", "母"
    FATHER_IN_LAW_W = "13", "岳父"
    MOTHER_IN_LAW_W = "14", "岳母"
    FATHER_IN_LAW_H = "15", "公公"
    MOTHER_IN_LAW_H = "16", "婆婆"
    GRANDFATHER = "17", "祖父"
    GRANDMOTHER = "18", "祖母"
    MATERNAL_GRANDFATHER = "19", "外祖父"
    MATERNAL_GRANDMOTHER = "20", "外祖母"
    OTHER = "99", "其他"


class DocumentType(models.TextChoices):
    """证件类型."""

    RESIDENT_ID = "id", "居民身份证"
    HOUSEHOLD_BOOK = "hukou", "户口簿"
    MILITARY = "military", "军官证/士兵证"
    OTHER = "other", "其他证件"


class Sex(models.TextChoices):
    MALE = "1", "男"
    FEMALE = "2", "女"


class EducationLevel(models.TextChoices):
    """文化程度."""

    ILLITERATE = "1", "文盲或半文盲"
    PRIMARY = "2", "小学"
    JUNIOR = "3", "初中"
    SENIOR = "4", "高中"
    COLLEGE = "5", "大专及以上"
    PRESCHOOL = "6", "学龄前儿童"


class SchoolingStatus(models.TextChoices):
    """在校生状况."""

    NOT_IN_SCHOOL = "00", "非在校生"
    PRESCHOOL = "10", "学前教育"
    PRIMARY = "20", "小学"
    JUNIOR = "30", "七至九年级"
    SENIOR = "40", "高中"
    VOCATIONAL_SECONDARY = "50", "中职"
    VOCATIONAL_HIGHER = "60", "高职（高专）"
    COLLEGE = "70", "大专及以上"


class NotAttendingReason(models.TextChoices):
    """义务教育阶段未上学原因 / 失学或辍学原因."""

    HEALTH = "1", "身体原因不具备就学条件"
    HOME_TEACHING = "2", "送教上门"
    FINANCIAL = "3", "经济困难"
    UNWILLING = "4", "厌学或不愿就学"
    WORKING = "5", "外出务工"
    OTHER = "9", "其他"


class HealthStatus(models.TextChoices):
    """健康状况."""

    HEALTHY = "1", "健康"
    CHRONIC = "2", "长期慢性病"
    SERIOUS = "3", "患有大病"
    DISABLED = "4", "残疾"


class DisabilityGrade(models.TextChoices):
    """残疾等级 (GB/T 26341)."""

    GRADE_1 = "1", "一级"
    GRADE_2 = "2", "二级"
    GRADE_3 = "3", "三级"
    GRADE_4 = "4", "四级"


class LabourCapacity(models.TextChoices):
    """劳动技能 (2014–2020 list, plus 弱劳动力或半劳动力 from 2021)."""

    ORDINARY = "1", "普通劳动力"
    SKILLED = "2", "技能劳动力"
    WEAK = "5", "弱劳动力或半劳动力"
    LOST = "3", "丧失劳动力"
    NONE = "4", "无劳动力"


class WorkPlace(models.TextChoices):
    """务工所在地."""

    IN_TOWN = "1", "乡（镇）内"
    IN_COUNTY = "2", "乡外县内"
    IN_PROVINCE = "3", "县外省内"
    OUT_OF_PROVINCE = "4", "省外"
    OTHER = "9", "其他"


class MemberChange(models.TextChoices):
    """人员变更."""

    DEATH = "death", "死亡"
    MARRIED_OUT = "married_out", "嫁出"
    EMIGRATED = "emigrated", "出国定居"
    IMPRISONED = "imprisoned", "判刑收监"
    MARRIED_IN = "married_in", "嫁入"
    NEWBORN = "newborn", "新生儿"
    OTHER_IN = "other_in", "其他转入"
    OTHER_OUT = "other_out", "其他转出"


ETHNICITIES = [
    "汉族", "蒙古族", "回族", "藏族", "维吾尔族", "苗族", "彝族", "壮族", "布依族", "朝鲜族", "满族", "侗族",
    "瑶族", "白族", "土家族", "哈尼族", "哈萨克族", "傣族", "黎族", "傈僳族", "佤族", "畲族", "高山族",
    "拉祜族", "水族", "东乡族", "纳西族", "景颇族", "柯尔克孜族", "土族", "达斡尔族", "仫佬族", "羌族",
    "布朗族", "撒拉族", "毛南族", "仡佬族", "锡伯族", "阿昌族", "普米族", "塔吉克族", "怒族",
    "乌孜别克族", "俄罗斯族", "鄂温克族", "德昂族", "保安族", "裕固族", "京族", "塔塔尔族", "独龙族",
    "鄂伦春族", "赫哲族", "门巴族", "珞巴族", "基诺族",
]
# GB/T 3304 numeric codes follow the order above (汉族 01 … 基诺族 56).
Ethnicity = models.TextChoices("Ethnicity", [(f"E{i:02d}", (f"{i:02d}", name)) for i, name in enumerate(ETHNICITIES, 1)])
