import pytest

from shared.errors import Unauthorized
from shared.whatsapp.signature import sign_body, verify_freshness, verify_signature

# WAHA's documented test vector (../shared/waha/README.md).
VECTOR_KEY = "my-secret-key"
VECTOR_BODY = b'{"event":"message","session":"default","engine":"WEBJS"}'
VECTOR_HMAC = (
    "208f8a55dde9e05519e898b10b89bf0d0b3b0fdf11fdbf09b6b90476301b98d8"
    "097c462b2b17a6ce93b6b47a136cf2e78a33a63f6752c2c1631777076153fa89"
)


def test_the_documented_test_vector_verifies():
    assert sign_body(VECTOR_BODY, VECTOR_KEY) == VECTOR_HMAC
    verify_signature(VECTOR_BODY, VECTOR_HMAC, VECTOR_KEY)
    verify_signature(VECTOR_BODY, VECTOR_HMAC.upper(), VECTOR_KEY)  # hex case does not matter


@pytest.mark.parametrize("signature", [None, "", "00" * 64, VECTOR_HMAC[:-2] + "00"])
def test_a_missing_or_wrong_signature_is_refused(signature):
    with pytest.raises(Unauthorized):
        verify_signature(VECTOR_BODY, signature, VECTOR_KEY)


def test_the_body_is_signed_byte_for_byte():
    with pytest.raises(Unauthorized):
        verify_signature(VECTOR_BODY + b" ", VECTOR_HMAC, VECTOR_KEY)


def test_timestamps_outside_the_window_are_refused():
    now = 1_800_000_000.0
    verify_freshness(None, 300, now=now)  # older WAHA sends none
    verify_freshness(str(int((now - 299) * 1000)), 300, now=now)
    for stale in (str(int((now - 301) * 1000)), str(int((now + 301) * 1000)), "yesterday"):
        with pytest.raises(Unauthorized):
            verify_freshness(stale, 300, now=now)
