"""The phone key of duplicate detection: one key per number, whatever the formatting or the ninth digit."""

import pytest

from shared.leads.phone import phone_key
from shared.whatsapp.phone import list_ninth_digit_variants

SAME_NUMBER = [
    "+55 (11) 98765-4321",
    "5511987654321",
    "11 8765-4321",
    "(11) 98765 4321",
    "551187654321",
    "0 11 98765-4321",
    "00 55 11 98765 4321",
]


@pytest.mark.parametrize("spelling", SAME_NUMBER)
def test_every_spelling_of_one_mobile_has_the_same_key(spelling):
    assert phone_key(spelling) == "551187654321"


def test_the_key_agrees_with_the_ninth_digit_rule_of_privacy_erasure():
    for variant in list_ninth_digit_variants("5521996543210"):
        assert phone_key(variant) == "552196543210"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("(11) 3265-4321", "(11) 93265-4321"),  # a landline never gained a ninth digit
        ("(11) 98765-4321", "(21) 98765-4321"),  # another area code
        ("+1 212 555 0100", "+55 12 12555 0100"),
    ],
)
def test_different_numbers_keep_different_keys(first, second):
    assert phone_key(first) != phone_key(second)


def test_a_landline_and_a_foreign_number_keep_their_digits():
    assert phone_key("(11) 3265-4321") == "551132654321"
    assert phone_key("+351 912 345 678") == "351912345678"


@pytest.mark.parametrize("empty", ["", None, "---", "000"])
def test_no_digits_no_key(empty):
    assert phone_key(empty) is None
