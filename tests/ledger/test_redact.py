import pytest

from recloop.ledger.redact import MASK, redact


@pytest.mark.parametrize(
    "secret",
    [
        "Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345",
        "key sk-proj-AbCdEfGhIjKlMnOpQrStUvWx",
        "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWx",
        "token ghp_0123456789abcdefghijABCDEFGHIJ",
        "slack xoxb-1234567890-abcdefghij",
        "aws AKIAIOSFODNN7EXAMPLE",
    ],
)
def test_credential_shaped_strings_are_masked(secret: str) -> None:
    masked = redact(f"before {secret} after")
    assert MASK in masked
    assert masked.startswith("before ") and masked.endswith(" after")
    assert secret.split()[-1] not in masked


def test_assignments_keep_their_name_and_lose_their_value() -> None:
    text = 'OPENAI_API_KEY=abc123secret\npassword: "hunter22"\nmax_tokens=400'
    assert redact(text) == f"OPENAI_API_KEY={MASK}\npassword: {MASK}\nmax_tokens=400"


def test_given_secrets_are_masked_wherever_they_appear() -> None:
    assert redact("use mykey-123456 or mykey-123456!", ["mykey-123456"]) == f"use {MASK} or {MASK}!"
    assert redact("a short one: abc", ["abc"]) == "a short one: abc"  # too short to be a secret


def test_ordinary_text_and_code_are_untouched() -> None:
    code = "def recommend(user_ids, k):\n    scores = model.score(user_ids)  # bearer of news\n"
    assert redact(code) == code
