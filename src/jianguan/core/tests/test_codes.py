"""Identity codes: USCC (GB 32100-2015), citizen ID (GB 11643-1999), mobile numbers. Pure, no database."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jianguan.core import codes
from jianguan.core.codes import CodeError

# --- Published examples --------------------------------------------------------------------------------
# GB 32100-2015's worked example checks "91350100M000100Y4Z" and finds the check character should be "3";
# GB 11643-1999's appendix gives 11010519491231002X (北京市朝阳区) and 440524188001010014 (广东省汕头市).


def test_gb32100_worked_example():
    assert codes.validate_uscc("91350100M000100Y43") == "91350100M000100Y43"
    assert not codes.is_valid_uscc("91350100M000100Y4Z")  # the standard's own "incorrect" input


def test_gb11643_examples():
    assert codes.validate_id_number("11010519491231002X") == "11010519491231002X"
    # The second example's check character is right, but its 1880 birth date is outside our 1900–today
    # policy, so it is rejected for the date, not the check character.
    assert codes.id_check_char("44052418800101001") == "4"
    with pytest.raises(CodeError, match="合理范围"):
        codes.validate_id_number("440524188001010014")


# --- USCC ----------------------------------------------------------------------------------------------
def test_uscc_check_char_by_hand():
    # 91350100M000100Y4: Σ value×weight = 9·1 + 1·3 + 3·9 + 5·27 + 1·26 + M(21)·20 + 1·8 + Y(30)·30 + 4·28
    # = 1640; 1640 mod 31 = 28; 31 − 28 = 3 → "3".
    assert codes.uscc_check_char("91350100M000100Y4") == "3"
    # 91371302MA3C00001: 9 + 3 + 27 + 7·27 + 1·19 + 3·26 + 2·17 + M(21)·20 + A(10)·29 + 3·25 + C(12)·13 + 1·28
    # = 1328; 1328 mod 31 = 26; 31 − 26 = 5 → "5".
    assert codes.make_uscc("91371302MA3C00001") == "91371302MA3C000015"
    # Σ = 0: 31 − 0 = 31, and 31 becomes 0 → "0".
    assert codes.uscc_check_char("0" * 17) == "0"


def test_uscc_alphabet_and_weights_as_documented():
    assert len(codes.USCC_ALPHABET) == 31 and not set("IOZSV") & set(codes.USCC_ALPHABET)
    assert tuple(3**i % 31 for i in range(17)) == codes.USCC_WEIGHTS  # the standard's W_i = 3^(i−1) mod 31


@pytest.mark.parametrize(
    "code,expected",
    [
        ("91350100m000100y43", "91350100M000100Y43"),  # lower case
        ("  91350100M000100Y43\n", "91350100M000100Y43"),  # surrounding white space
        ("９１３５０１００Ｍ０００１００Ｙ４３", "91350100M000100Y43"),  # full-width, as typed with an IME
    ],
)
def test_uscc_normalised(code, expected):
    assert codes.validate_uscc(code) == expected


@pytest.mark.parametrize(
    "code,fragment",
    [
        ("91350100M000100Y4", "应为18位，实际为17位"),
        ("91350100M000100Y433", "18位"),
        ("", "18位"),
        ("91350100M0001O0Y43", "非法字符：O"),
        ("91350100I000100Y43", "非法字符：I"),
        ("91350100M000100Y4S", "非法字符：S"),
        ("91350100M000100Y4-", "非法字符"),
        ("91350100M000100Y44", "校验位不正确"),
    ],
)
def test_uscc_errors(code, fragment):
    with pytest.raises(CodeError, match=fragment):
        codes.validate_uscc(code)
    assert not codes.is_valid_uscc(code)


def test_uscc_error_does_not_reveal_the_check_character():
    with pytest.raises(CodeError) as exc:
        codes.validate_uscc("91350100M000100Y4A")
    assert "3" not in str(exc.value)
    assert "check character" in str(exc.value)  # bilingual


def test_code_error_is_a_value_error():
    assert issubclass(CodeError, ValueError)


@pytest.mark.parametrize("value", [None, 91350100, b"91350100M000100Y43"])
def test_uscc_non_strings(value):
    assert not codes.is_valid_uscc(value)
    with pytest.raises(CodeError, match="字符串"):
        codes.validate_uscc(value)


def test_uscc_division():
    assert codes.uscc_division("91350100M000100Y43") == "350100"
    assert codes.uscc_division(codes.make_uscc("91371302MA3C00001")) == "371302"
    with pytest.raises(CodeError):
        codes.uscc_division("91350100M000100Y44")


@pytest.mark.parametrize("prefix", ["91350100M000100Y", "91350100M000100Y4Z", "91350100M000100YO"])
def test_make_uscc_rejects_bad_prefixes(prefix):
    with pytest.raises(CodeError):
        codes.make_uscc(prefix)


uscc_prefixes = st.text(alphabet=codes.USCC_ALPHABET, min_size=17, max_size=17)


@given(uscc_prefixes, st.integers(0, 17), st.sampled_from(codes.USCC_ALPHABET))
def test_uscc_every_single_substitution_is_detected(prefix, pos, char):
    # 31 is prime and every weight is non-zero mod 31, so no single changed character keeps the sum.
    code = codes.make_uscc(prefix)
    assert codes.is_valid_uscc(code)
    assert codes.is_valid_uscc(code.lower())
    changed = code[:pos] + char + code[pos + 1 :]
    assert codes.is_valid_uscc(changed) == (changed == code)


# --- Citizen ID number --------------------------------------------------------------------------------
def test_id_check_char_by_hand():
    # 37130219900101123: Σ digit×weight = 3·7 + 7·9 + 1·10 + 3·5 + 0·8 + 2·4 + 1·2 + 9·1 + 9·6 + 0·3 + 0·7
    # + 1·9 + 0·10 + 1·5 + 1·8 + 2·4 + 3·2 = 218; 218 mod 11 = 9 → "3".
    assert codes.id_check_char("37130219900101123") == "3"
    assert codes.make_id_number("371302", dt.date(1990, 1, 1), 123) == "371302199001011233"
    # 11010519491231002: Σ = 167; 167 mod 11 = 2 → "X".
    assert codes.id_check_char("11010519491231002") == "X"


def test_id_weights_as_documented():
    assert tuple(2 ** (17 - i) % 11 for i in range(17)) == codes.ID_WEIGHTS  # ISO 7064 MOD 11-2


def test_id_accepts_lower_case_x_and_returns_upper():
    assert codes.validate_id_number("11010519491231002x") == "11010519491231002X"
    assert codes.validate_id_number(" 11010519491231002x ") == "11010519491231002X"


def test_id_full_width_digits_are_normalised():
    assert codes.validate_id_number("１１０１０５１９４９１２３１００２Ｘ") == "11010519491231002X"


def test_id_other_scripts_digits_rejected():
    # Arabic-Indic digits are "digits" to Python's str.isdigit() and int(), but not to GB 11643.
    arabic = "".join(chr(0x660 + int(c)) for c in "11010519491231002") + "X"
    with pytest.raises(CodeError, match="格式"):
        codes.validate_id_number(arabic)


@pytest.mark.parametrize(
    "code,fragment",
    [
        ("11010519491231002", "应为18位，实际为17位"),
        ("1101051949123100200", "18位"),
        ("110105194912310021", "校验位不正确"),
        ("1101051949123100AX", "格式"),
        ("X1010519491231002X", "格式"),
        ("11010519491331002X", "出生日期19491331无效"),
        ("110105194902300021", "出生日期"),
        ("11010518991231002X", "合理范围"),
    ],
)
def test_id_errors(code, fragment):
    with pytest.raises(CodeError, match=fragment):
        codes.validate_id_number(code)
    assert not codes.is_valid_id_number(code)


def test_id_check_error_does_not_reveal_the_check_character():
    with pytest.raises(CodeError) as exc:
        codes.validate_id_number("110105194912310021")
    assert "X" not in str(exc.value)  # the expected check character


@pytest.mark.parametrize(
    "birth,valid",
    [
        (dt.date(1900, 1, 1), True),  # earliest accepted
        (dt.date(2000, 2, 29), True),  # leap year
        (dt.date(2024, 6, 30), True),  # = today below
    ],
)
def test_id_birth_date_range(birth, valid):
    today = dt.date(2024, 6, 30)
    assert codes.is_valid_id_number(codes.make_id_number("371302", birth, 1), today=today) is valid


@pytest.mark.parametrize(
    "first14",
    [
        "37130218991231",  # before 1900
        "37130219000229",  # 1900 is not a leap year
        "37130220230229",
        "37130220240701",  # the day after "today"
        "37130220240001",
        "37130220241301",
    ],
)
def test_id_birth_dates_rejected(first14):
    first17 = first14 + "001"
    number = first17 + codes.id_check_char(first17)
    assert not codes.is_valid_id_number(number, today=dt.date(2024, 6, 30))


def test_id_future_birth_rejected_by_default():
    future = codes.make_id_number("371302", dt.date.today() + dt.timedelta(days=1), 1)
    with pytest.raises(CodeError, match="合理范围"):
        codes.validate_id_number(future)


def test_id_birth_date_and_gender():
    assert codes.id_birth_date("11010519491231002X") == dt.date(1949, 12, 31)
    assert codes.id_gender("11010519491231002X") == "F"  # sequence 002: even
    assert codes.id_gender("371302199001011233") == "M"  # sequence 123: odd
    with pytest.raises(CodeError):
        codes.id_gender("110105194912310021")


@pytest.mark.parametrize("value", [None, 11010519491231002, ["11010519491231002X"]])
def test_id_non_strings(value):
    assert not codes.is_valid_id_number(value)
    with pytest.raises(CodeError, match="字符串"):
        codes.validate_id_number(value)


@pytest.mark.parametrize(
    "address,seq", [("37130", 1), ("37130A", 1), ("371302", -1), ("371302", 1000), ("371302", True)]
)
def test_make_id_number_rejects_bad_parts(address, seq):
    with pytest.raises(CodeError):
        codes.make_id_number(address, dt.date(1990, 1, 1), seq)


births = st.dates(dt.date(1900, 1, 1), dt.date(2020, 12, 31))


@given(births, st.integers(0, 999))
def test_id_round_trip(birth, seq):
    number = codes.make_id_number("371302", birth, seq)
    assert codes.validate_id_number(number) == number
    assert codes.id_birth_date(number) == birth
    assert codes.id_gender(number) == ("M" if seq % 2 else "F")


@given(births, st.integers(0, 999), st.integers(0, 17), st.data())
def test_id_every_single_substitution_is_detected(birth, seq, pos, data):
    # Every weight is non-zero mod 11 (a prime), so a single changed character never keeps the check.
    number = codes.make_id_number("371302", birth, seq)
    char = data.draw(st.sampled_from("0123456789X" if pos == 17 else "0123456789"))
    changed = number[:pos] + char + number[pos + 1 :]
    assert codes.is_valid_id_number(changed) == (changed == number)


# --- Mobile phone ------------------------------------------------------------------------------------
VALID_PHONES = [f"1{d}012345678" for d in "3456789"] + [" 13812345678 ", "１３８１２３４５６７８"]
INVALID_PHONES = ["12812345678", "10812345678", "1381234567", "138123456789", "1381234567a", "138 1234 5678"]


@pytest.mark.parametrize("phone", VALID_PHONES)
def test_mobile_valid(phone):
    assert codes.is_valid_mobile(phone)
    assert len(codes.validate_mobile(phone)) == 11


@pytest.mark.parametrize("phone", [*INVALID_PHONES, "", None, 13812345678])
def test_mobile_invalid(phone):
    assert not codes.is_valid_mobile(phone)
    with pytest.raises(CodeError):
        codes.validate_mobile(phone)


def test_mobile_other_scripts_digits_rejected():
    assert not codes.is_valid_mobile("1" + "".join(chr(0x660 + int(c)) for c in "3812345678"))
