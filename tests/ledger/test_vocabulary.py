import pytest

from recloop.ledger.vocabulary import LEVELS, OUTCOMES, VERDICTS, check_word


def test_vocabularies() -> None:
    assert VERDICTS == ("pass", "reject", "error", "pending")
    assert OUTCOMES == ("ship", "no_ship", "inconclusive")  # the words of stats.decision
    assert LEVELS == ("L1", "L2", "L3", "L4")


def test_check_word_names_the_field_and_the_choices() -> None:
    check_word(VERDICTS, "reject", "verdict")
    with pytest.raises(ValueError, match="verdict must be one of pass, reject, error, pending"):
        check_word(VERDICTS, "rejected", "verdict")
