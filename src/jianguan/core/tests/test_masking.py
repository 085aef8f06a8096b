"""Masking of personal data for display: the documented examples, odd input, and "never raises"."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jianguan.core.masking import mask_id_number, mask_name, mask_phone

MASKS = (mask_id_number, mask_phone, mask_name)


@pytest.mark.parametrize(
    "value,expected",
    [
        ("371302199001011234", "371302********1234"),  # first 6 and last 4 visible
        ("11010519491231002x", "110105********002x"),
        (" 11010519491231002X ", "110105********002X"),
        ("371302900101123", "371302*****1123"),  # old 15-digit number
        ("3713021990010112", "****************"),  # 16 characters: not an ID number, masked fully
        ("37130219900101123A", "******************"),
        ("12345", "*****"),
        ("", ""),
        (None, ""),
        (371302199001011234, "371302********1234"),  # an int from a careless caller
    ],
)
def test_mask_id_number(value, expected):
    assert mask_id_number(value) == expected


@pytest.mark.parametrize(
    "value,expected",
    [
        ("13812345678", "138****5678"),
        (" 13812345678 ", "138****5678"),
        ("+8613812345678", "+86138****5678"),
        ("+86 13812345678", "+86 138****5678"),
        ("0539-8123456", "************"),  # not a mobile number: masked fully
        ("1381234567", "**********"),
        ("123", "***"),
        ("", ""),
        (None, ""),
        (13812345678, "138****5678"),
    ],
)
def test_mask_phone(value, expected):
    assert mask_phone(value) == expected


@pytest.mark.parametrize(
    "value,expected",
    [
        ("张三丰", "张**"),
        ("张三", "张*"),
        ("欧阳娜娜", "欧***"),
        ("  李四 ", "李*"),
        ("李", "*"),  # keeping the only character would show the whole name
        ("阿卜杜拉·买买提", "阿*******"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_name(value, expected):
    assert mask_name(value) == expected


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("boom")


@pytest.mark.parametrize("func", MASKS)
def test_broken_str_is_masked_not_raised(func):
    assert func(Unprintable()) == "******"


odd_values = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.integers(),
    st.floats(allow_nan=True),
    st.binary(max_size=20),
    st.lists(st.integers(), max_size=3),
)


@given(odd_values)
def test_never_raises_and_returns_text(value):
    for func in MASKS:
        assert isinstance(func(value), str)


@given(st.text(max_size=40))
def test_unrecognised_shapes_are_masked_fully(text):
    # Anything that is not an 18/15-digit number (or an 11-digit phone) shows nothing but '*'.
    stripped = text.strip()
    out = mask_id_number(text)
    if not (stripped.isascii() and len(stripped) in (15, 18) and stripped[:15].isdigit()):
        assert out == "*" * len(stripped)
    out = mask_phone(text)
    if not (stripped.isascii() and stripped.removeprefix("+").replace(" ", "").replace("-", "").isdigit()):
        assert out == "*" * len(stripped)


@given(st.text(alphabet="0123456789", min_size=17, max_size=17), st.sampled_from("0123456789X"))
def test_id_middle_is_always_hidden(first17, last):
    number = first17 + last
    out = mask_id_number(number)
    assert out == number[:6] + "*" * 8 + number[-4:]
    assert len(out) == len(number)


@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_phone_middle_is_always_hidden(number):
    assert mask_phone(number) == number[:3] + "****" + number[-4:]


@given(st.text(min_size=2, max_size=10).filter(lambda s: len(s.strip()) >= 2))
def test_name_keeps_only_the_first_character(name):
    out = mask_name(name)
    stripped = name.strip()
    assert out == stripped[0] + "*" * (len(stripped) - 1)
