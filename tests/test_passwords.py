"""The password policy, one test per rule (ASVS 5 6.2), and argon2id hashing."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from tracker.accounts import passwords
from tracker.accounts.passwords import PasswordRejected, check_password


def rejected(password: str | None, **context) -> str | None:
    try:
        check_password(password, **context)
    except PasswordRejected as error:
        return str(error)
    return None


def test_an_empty_password_asks_for_one():
    assert rejected("") == "Enter a password"
    assert rejected(None) == "Enter a password"


def test_seven_characters_are_too_short_and_eight_are_enough():
    assert rejected("qzv7wmx") == "Password must be 8 characters or more"
    assert rejected("qzv7wmxk") is None


def test_length_counts_characters_not_bytes():
    # Seven code points, fourteen bytes in UTF-8: still too short.
    assert rejected("ŵŷźżžſƀ") == "Password must be 8 characters or more"
    assert rejected("ŵŷźżžſƀƁ") is None


def test_at_least_64_characters_are_allowed_and_up_to_256():
    assert rejected("plum kettle violin " * 3 + "abcdefg") is None  # 64
    assert rejected("x7" * 128) is None  # 256
    assert rejected("x7" * 128 + "y") == "Password must be 256 characters or fewer"


def test_no_composition_rules_all_lower_case_letters_and_spaces_are_fine():
    assert rejected("plum kettle violin") is None
    assert rejected("glasshouse tangerine") is None


def test_common_passwords_are_refused_whatever_their_case():
    assert rejected("password") == "Choose a password that is harder to guess"
    assert rejected("Password1") == "Choose a password that is harder to guess"
    assert rejected("QWERTYUIOP") == "Choose a password that is harder to guess"
    assert rejected("iloveyou") == "Choose a password that is harder to guess"


def test_the_bundled_list_is_large_and_read_once():
    assert len(passwords.common_passwords()) > 40_000
    assert passwords.common_passwords() is passwords.common_passwords()


def test_the_service_words_are_refused_anywhere_in_the_password():
    for word in ("roadmap", "Tracker", "ADASS"):
        assert rejected(f"my {word} login 2025") == "Choose a password that is harder to guess"


def test_the_email_local_part_is_refused():
    context = {"email": "jbloggs@leeds.gov.uk"}
    assert rejected("JBloggs-2025-summer", **context) == "Choose a password that is harder to guess"
    assert rejected("summer garden 2025", **context) is None


def test_parts_of_a_dotted_email_address_are_refused():
    assert rejected("bloggsbloggs!", email="joe.bloggs@x.org") == (
        "Choose a password that is harder to guess"
    )


def test_the_persons_name_is_refused():
    context = {"name": "Priya Ramanathan"}
    assert rejected("ramanathan2024", **context) == "Choose a password that is harder to guess"
    assert rejected("PRIYA from the office", **context) == (
        "Choose a password that is harder to guess"
    )


def test_the_council_name_is_refused_but_not_its_generic_words():
    context = {"extra_words": ["Hartlepool Borough Council", "Hartlepool"]}
    assert rejected("hartlepool-care-2025", **context) == (
        "Choose a password that is harder to guess"
    )
    assert rejected("borough council meeting", **context) is None


def test_short_name_parts_are_not_searched_inside_other_words():
    assert rejected("planning ahead quietly", name="Ann Li") is None


def test_hashes_are_argon2id_and_verify():
    hashed = passwords.hash_password("plum kettle violin")
    assert hashed.startswith("$argon2id$")
    assert passwords.verify_password(hashed, "plum kettle violin")
    assert not passwords.verify_password(hashed, "plum kettle viola")
    assert not passwords.verify_password(None, "plum kettle violin")
    assert not passwords.verify_password("not a hash", "plum kettle violin")


def test_production_hashes_use_the_rfc_9106_parameters(empty_app):
    # Outside TESTING the strong hasher is used; hashes made by weaker settings are upgraded.
    empty_app.testing = False
    with empty_app.app_context():
        hashed = passwords.hash_password("plum kettle violin")
        assert "$m=65536,t=3,p=4$" in hashed
        assert not passwords.needs_rehash(hashed)
        weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("x")
        assert passwords.needs_rehash(weak)


def test_overlong_passwords_are_not_hashed_to_check_them():
    hashed = passwords.hash_password("plum kettle violin")
    assert not passwords.verify_password(hashed, "x" * 100_000)


@pytest.mark.parametrize(
    "password", ["\u00e9t\u00e9 \u00e0 la plage!", "日本語のパスワードです", "🙂🙃🙂🙃🙂🙃🙂🙃"]
)
def test_unicode_passwords_hash_and_verify(password):
    assert rejected(password) is None
    assert passwords.verify_password(passwords.hash_password(password), password)
