"""公民身份号码 (GB 11643-1999) validation, upgrade and masking.

Only synthetic numbers (address code + date + 9xx sequence) and the standard's own published example
11010519491231002X are used — never a real person's number.

Check character: S = Σ digit_i × W_i over the first 17 digits, W = 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2;
the check character is "10X98765432"[S mod 11].

Worked by hand:

  11010519491231002X (GB 11643 example)
    digits   1  1  0  1  0  5  1  9  4  9  1  2  3  1  0  0  2
    weights  7  9 10  5  8  4  2  1  6  3  7  9 10  5  8  4  2
    products 7  9  0  5  0 20  2  9 24 27  7 18 30  5  0  0  4   S = 167
    167 mod 11 = 2 → "10X98765432"[2] = "X".   17th digit 2 (even) → female. Born 1949-12-31.

  430225198001019016 (synthetic: 430225, 1980-01-01, sequence 901)
    digits   4  3  0  2  2  5  1  9  8  0  0  1  0  1  9  0  1
    products 28 27 0 10 16 20  2  9 48  0  0  9  0  5 72  0  2   S = 248
    248 mod 11 = 6 (242 = 22 × 11) → "6".   17th digit 1 (odd) → male.

  430225200002299021 (synthetic: 430225, 2000-02-29, sequence 902)
    digits   4  3  0  2  2  5  2  0  0  0  0  2  2  9  9  0  2
    products 28 27 0 10 16 20  4  0  0  0  0 18 20 45 72  0  4   S = 264
    264 mod 11 = 0 (264 = 24 × 11) → "1".   17th digit 2 (even) → female.

  15-digit 110105491231002 → insert "19" after the address code: 11010519491231002 → check "X" (as above)
    → 11010519491231002X.
"""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from xiaokang.registry.idnumber import check_char, make_id_number, mask_id_number, validate_id_number
from xiaokang.registry.models import Member

STANDARD_EXAMPLE = "11010519491231002X"
MALE_1980 = "430225198001019016"
FEMALE_LEAP = "430225200002299021"


@pytest.mark.parametrize("number,birth,sex", [
    (STANDARD_EXAMPLE, dt.date(1949, 12, 31), "2"),
    (MALE_1980, dt.date(1980, 1, 1), "1"),
    (FEMALE_LEAP, dt.date(2000, 2, 29), "2"),
])
def test_valid_numbers_worked_by_hand(number, birth, sex):
    check = validate_id_number(number)
    assert check.valid
    assert check.normalized == number
    assert check.birth_date == birth
    assert check.sex == sex
    assert check.error is None
    assert check.upgraded is False


def test_check_char_matches_hand_computation():
    assert check_char("11010519491231002") == "X"
    assert check_char("43022519800101901") == "6"
    assert check_char("43022520000229902") == "1"


def test_check_char_rejects_wrong_input():
    for bad in ("1234", "1101051949123100X", "110105194912310021"):
        with pytest.raises(ValueError):
            check_char(bad)


def test_make_id_number_builds_the_hand_computed_numbers():
    assert make_id_number("430225", dt.date(1980, 1, 1), 901) == MALE_1980
    assert make_id_number("430225", dt.date(2000, 2, 29), 902) == FEMALE_LEAP
    assert make_id_number("110105", dt.date(1949, 12, 31), 2) == STANDARD_EXAMPLE


@pytest.mark.parametrize("number,expected", [
    ("430225198001019017", "6"),
    ("430225198001019010", "6"),
    ("43022519800101901X", "6"),
    ("430225200002299020", "1"),
    ("110105194912310021", "X"),
])
def test_wrong_check_character_is_invalid_with_message(number, expected):
    check = validate_id_number(number)
    assert not check.valid
    assert check.normalized is None
    assert check.error == f"校验码错误（应为 {expected}）"


def test_lowercase_x_and_spaces_are_normalised():
    check = validate_id_number("  11010519491231002x ")
    assert check.valid
    assert check.normalized == STANDARD_EXAMPLE


@pytest.mark.parametrize("date8", ["19990230", "19990229", "19991301", "19990001", "19990100", "19000229"])
def test_impossible_birth_dates_are_rejected(date8):
    # 1999 and 1900 are common years (1900: divisible by 100, not by 400); February has no 30th.
    first17 = f"430225{date8}901"
    number = first17 + check_char(first17)  # correct check character: the date alone must fail
    check = validate_id_number(number)
    assert not check.valid
    assert check.error == f"出生日期 {date8} 不存在"


def test_29_february_2000_is_accepted():
    # 2000 is divisible by 400: a leap year.
    assert validate_id_number(FEMALE_LEAP).birth_date == dt.date(2000, 2, 29)


def test_future_and_implausible_birth_dates_are_rejected():
    future = make_id_number("430225", dt.date(2030, 1, 1), 901)
    check = validate_id_number(future, today=dt.date(2026, 1, 1))
    assert not check.valid and "不合理" in check.error
    assert validate_id_number(future, today=dt.date(2030, 1, 1)).valid  # born today is fine
    first17 = "43022518791231901"
    assert not validate_id_number(first17 + check_char(first17)).valid


@pytest.mark.parametrize("value", [
    None, 430225198001019016, 4.3, b"430225198001019016", [], "", "   ", "43022519800101901", "4302251980010190166",
    "43022519800101901Y", "4302251980O101901 6", "A30225198001019016", "430225-98001019016", "X30225198001019016",
    "43022519800101901XX", "43022549123100A", "4302254912310",
    # Unicode digits that str.isdigit() accepts but int() does not (superscripts), in the sequence part
    "4302251980010190²6", "43022519800101901²", "43022580010190²",
])
def test_bad_values_are_invalid_never_an_exception(value):
    check = validate_id_number(value)
    assert check.valid is False
    assert check.error
    assert check.normalized is None


def test_full_width_digits_are_not_accepted_as_they_are():
    # Full-width digits (１２３, typed with a Chinese IME) must not pass as a valid number stored in
    # full-width form: either reject them or normalise them to ASCII.
    check = validate_id_number("１１０１０５１９４９１２３１００２X")
    assert check.valid is False or check.normalized == STANDARD_EXAMPLE


def test_non_text_gets_an_excel_hint():
    assert "文本" in validate_id_number(430225198001019016).error
    assert validate_id_number(None).error == "证件号码为空"
    assert validate_id_number("").error == "证件号码应为 18 位（实际 0 位）"


def test_fifteen_digit_legacy_number_is_upgraded():
    check = validate_id_number("110105491231002")
    assert check.valid
    assert check.upgraded
    assert check.normalized == STANDARD_EXAMPLE
    assert check.birth_date == dt.date(1949, 12, 31)
    assert check.sex == "2"


def test_fifteen_digit_with_impossible_date_is_rejected():
    # 990230 → 1999-02-30
    check = validate_id_number("430225990230901")
    assert not check.valid
    assert check.error == "出生日期 19990230 不存在"


def test_sex_comes_from_the_17th_digit():
    for seq in range(900, 1000):
        number = make_id_number("430225", dt.date(1985, 6, 15), seq)
        assert validate_id_number(number).sex == ("1" if seq % 2 else "2"), number


def test_mask_keeps_first_six_and_last_four():
    assert mask_id_number(STANDARD_EXAMPLE) == "110105********002X"
    assert mask_id_number(MALE_1980) == "430225********9016"
    assert mask_id_number("110105491231002") == "110105*****1002"
    assert mask_id_number("1234567890") == "**********"
    assert mask_id_number("") == ""
    assert mask_id_number(None) == ""


def _member(**fields):
    values = dict(name="测试乙", id_number=MALE_1980, birth_date=dt.date(1980, 1, 1), sex="1", relation="01")
    values.update(fields)
    return Member(**values)


def test_member_clean_accepts_a_consistent_member():
    m = _member()
    m.clean()
    assert (m.birth_date, m.sex) == (dt.date(1980, 1, 1), "1")


def test_member_clean_fills_and_normalises_from_the_number():
    m = _member(id_number="110105491231002", birth_date=None, sex="")
    m.clean()
    assert m.id_number == STANDARD_EXAMPLE
    assert (m.birth_date, m.sex) == (dt.date(1949, 12, 31), "2")


def test_member_clean_rejects_inconsistent_birth_date():
    with pytest.raises(ValidationError) as exc:
        _member(birth_date=dt.date(1980, 1, 2)).clean()
    assert "birth_date" in exc.value.message_dict


def test_member_clean_rejects_inconsistent_sex():
    with pytest.raises(ValidationError) as exc:
        _member(sex="2").clean()
    assert "sex" in exc.value.message_dict


def test_member_clean_rejects_an_invalid_number():
    with pytest.raises(ValidationError) as exc:
        _member(id_number="430225198001019017").clean()
    assert exc.value.message_dict["id_number"] == ["校验码错误（应为 6）"]


def test_member_clean_skips_other_document_types():
    m = _member(document_type="other", id_number="测试证件-001", birth_date=dt.date(1980, 1, 2), sex="2")
    m.clean()  # no ID-number check for other documents
