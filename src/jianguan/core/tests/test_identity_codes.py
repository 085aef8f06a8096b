import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jianguan.core import codes, masking


@pytest.mark.parametrize("code", ["91350100M000100Y43", "11010519491231002X"])
def test_published_examples(code):
    # 91350100M000100Y43: the USCC example widely cited with GB 32100; 11010519491231002X: GB 11643's example.
    assert codes.is_valid_uscc(code) or codes.is_valid_id_number(code)


def test_uscc_check_char_by_hand():
    # By hand: Σ value×weight = 9·1 + 1·3 + 3·9 + 5·27 + 1·26 + M(21)·20 + 1·8 + Y(30)·30 + 4·28 = 1640;
    # 1640 mod 31 = 28; 31 − 28 = 3 → "3".
    assert codes.uscc_check_char("91350100M000100Y4") == "3"


@pytest.mark.parametrize(
    "bad,fragment",
    [
        ("91350100M000100Y4", "18位"),
        ("91350100M000100Y44", "校验位"),
        ("91350100M0001O0Y43", "非法字符"),
        ("91350100m000100y43 ", None),  # lower case and spaces are normalised, valid
    ],
)
def test_uscc_errors(bad, fragment):
    if fragment is None:
        assert codes.validate_uscc(bad) == "91350100M000100Y43"
    else:
        with pytest.raises(codes.CodeError, match=fragment):
            codes.validate_uscc(bad)


@given(st.text(alphabet=codes.USCC_ALPHABET, min_size=17, max_size=17))
def test_uscc_round_trip_and_single_substitution_detected(prefix):
    code = codes.make_uscc(prefix)
    assert codes.is_valid_uscc(code)
    for pos in (0, 8, 16):
        for c in "0AX":
            if c != code[pos]:
                assert not codes.is_valid_uscc(code[:pos] + c + code[pos + 1 :])


@given(st.dates(dt.date(1900, 1, 1), dt.date(2020, 12, 31)), st.integers(0, 999))
def test_id_round_trip(birth, seq):
    number = codes.make_id_number("371302", birth, seq)
    assert codes.validate_id_number(number) == number
    assert codes.id_birth_date(number) == birth
    assert codes.id_gender(number) == ("M" if seq % 2 else "F")
    wrong = codes.ID_CHECK[(codes.ID_CHECK.index(number[-1]) + 1) % 11]
    assert not codes.is_valid_id_number(number[:-1] + wrong)


@pytest.mark.parametrize(
    "bad,fragment",
    [
        ("11010519491231002", "18位"),
        ("110105194912310021", "校验位"),
        ("11010519491331002X", "出生日期"),
        ("11010518991231002X", "合理范围"),
        ("1101051949123100AX", "格式"),
    ],
)
def test_id_errors(bad, fragment):
    with pytest.raises(codes.CodeError, match=fragment):
        codes.validate_id_number(bad)


def test_future_birth_rejected():
    future = codes.make_id_number("371302", dt.date.today() + dt.timedelta(days=400), 1)
    assert not codes.is_valid_id_number(future)


def test_lower_case_x_accepted():
    assert codes.validate_id_number("11010519491231002x") == "11010519491231002X"


def test_mobile():
    assert codes.is_valid_mobile("13812345678")
    assert not codes.is_valid_mobile("12812345678")
    assert not codes.is_valid_mobile("1381234567")


@pytest.mark.parametrize(
    "func,value,expected",
    [
        (masking.mask_id_number, "371302199001011234", "371302********1234"),
        (masking.mask_id_number, "12345", "*****"),
        (masking.mask_id_number, None, ""),
        (masking.mask_phone, "13812345678", "138****5678"),
        (masking.mask_phone, "123", "***"),
        (masking.mask_name, "张三丰", "张**"),
        (masking.mask_name, "李", "*"),
    ],
)
def test_masking(func, value, expected):
    assert func(value) == expected


@given(st.one_of(st.none(), st.text(max_size=40)))
def test_masking_never_raises_and_hides_the_middle(value):
    for func in (masking.mask_id_number, masking.mask_phone, masking.mask_name):
        out = func(value)
        assert isinstance(out, str)
        if value and len(value.strip()) >= 12 and func is masking.mask_id_number:
            assert value.strip()[6:-4] not in out or set(value.strip()[6:-4]) <= {"*"}
