"""Ed25519 signing and verification of signed notes (``proofqueue.adapters.signing``)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from proofqueue.adapters.signing import (
    SigningKey,
    load_signing_key,
    new_signing_key,
    verify_note,
)
from proofqueue.domain.note import NoteError, NoteNotVerified, parse_verifier_key

# From golang.org/x/mod sumdb/note/note_test.go (TestNewSigner, TestSign, TestOpen).
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
PETER_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdng"
    "otpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnW"
    "Lox33WWd1RvMc+QQ=\n"
)
# From C2SP signed-note.md, "Example".
C2SP_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
C2SP_NOTE = (
    "This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONn"
    "cAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)
SECRET_PART = "AYEKFALVFGyNhPJEMzD1QIDr"

note_texts = st.lists(
    st.text(st.characters(blacklist_categories=["Cs", "Cc"]), max_size=30), min_size=1, max_size=4
).map(lambda lines: "\n".join(lines) + "\n")


def test_gos_private_key_signs_gos_note_byte_for_byte() -> None:
    """Ed25519 is deterministic: the PeterNeumann key gives Go's TestSign output exactly."""
    key = load_signing_key(PETER_SKEY)
    assert key.verifier_key == PETER_VKEY
    assert key.private_key_text == PETER_SKEY
    assert key.sign(PETER_TEXT) == PETER_TEXT + "\n" + PETER_SIG


def test_published_signed_notes_verify() -> None:
    """Go's note by PeterNeumann, by EnochRoot, and C2SP's example note all verify."""
    both = PETER_TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert verify_note(both, PETER_VKEY).text == PETER_TEXT
    assert verify_note(both, ENOCH_VKEY).text == PETER_TEXT
    assert verify_note(C2SP_NOTE, C2SP_VKEY).text == "This is an example message.\n"


def test_every_mangling_of_a_private_key_is_rejected_without_echoing_it() -> None:
    """As Go's TestNewSigner: substrings and one-character changes fail; no message leaks it."""
    mangled = [
        PETER_SKEY[i:j]
        for i in range(len(PETER_SKEY) + 1)
        for j in range(i + 1, len(PETER_SKEY) + 1)
        if (i, j) != (0, len(PETER_SKEY))
    ]
    mangled += [
        PETER_SKEY[:i] + chr(ord(ch) + 1) + PETER_SKEY[i + 1 :] for i, ch in enumerate(PETER_SKEY)
    ]
    for text in mangled:
        with pytest.raises(NoteError) as excinfo:
            load_signing_key(text)
        assert SECRET_PART not in str(excinfo.value)


def test_a_signing_key_does_not_show_its_secret_in_its_repr() -> None:
    """repr names the key by name and key ID only."""
    assert repr(load_signing_key(PETER_SKEY)) == "SigningKey(PeterNeumann+c74f20a3)"


def test_a_new_key_loads_back_and_verifies_its_own_signatures() -> None:
    """new_signing_key gives a private key whose verifier key is the one printed with it."""
    private_text, verifier_text = new_signing_key("log.example/proofqueue")
    assert private_text.startswith("PRIVATE+KEY+log.example/proofqueue+")
    key = load_signing_key(private_text)
    assert key.verifier_key == verifier_text
    assert parse_verifier_key(verifier_text).name == "log.example/proofqueue"
    verify_note(key.sign("hello\n"), verifier_text)
    assert new_signing_key("log.example/proofqueue") != (private_text, verifier_text)


@pytest.mark.parametrize("origin", ["", "has space", "has+plus"])
def test_a_new_key_needs_a_name_the_spec_allows(origin: str) -> None:
    """Empty names and names with spaces or '+' are refused with a one-line message."""
    with pytest.raises(NoteError, match="origin") as excinfo:
        new_signing_key(origin)
    assert "\n" not in str(excinfo.value)


def test_a_note_signed_by_a_key_of_another_name_is_rejected() -> None:
    """Verifying Go's PeterNeumann note with the EnochRoot key fails, naming the signer."""
    with pytest.raises(NoteNotVerified, match=r"not signed by EnochRoot \(signed by PeterNeumann"):
        verify_note(PETER_TEXT + "\n" + PETER_SIG, ENOCH_VKEY)


def test_a_note_signed_by_another_key_of_the_same_name_is_rejected_as_a_key_id_mismatch() -> None:
    """Same name, different key: the key IDs differ and the message says so."""
    impostor = SigningKey("PeterNeumann", Ed25519PrivateKey.generate())
    with pytest.raises(NoteNotVerified, match=f"key ID {impostor.key_id.hex()}, not c74f20a3"):
        verify_note(impostor.sign(PETER_TEXT), PETER_VKEY)


def test_a_bad_signature_is_rejected() -> None:
    """Go's corrupted signature (four characters inserted) and a changed text both fail."""
    corrupted = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(NoteNotVerified, match=r"PeterNeumann\+c74f20a3 does not verify"):
        verify_note(PETER_TEXT + "\n" + corrupted, PETER_VKEY)
    with pytest.raises(NoteNotVerified, match="does not verify"):
        verify_note(PETER_TEXT.replace("answer", "Answer") + "\n" + PETER_SIG, PETER_VKEY)


def test_malformed_notes_and_keys_are_rejected_as_malformed() -> None:
    """A note without its blank line, or a verifier key cut short, raises NoteError."""
    with pytest.raises(NoteError, match="blank line"):
        verify_note(PETER_TEXT + PETER_SIG, PETER_VKEY)
    with pytest.raises(NoteError, match="verifier key"):
        verify_note(PETER_TEXT + "\n" + PETER_SIG, PETER_VKEY[:-4])


@settings(max_examples=50)
@given(note_texts, st.data())
def test_any_signed_text_verifies_and_any_changed_character_fails(
    text: str, data: st.DataObject
) -> None:
    """Sign, verify; then change one character of the text: the note no longer verifies."""
    key = load_signing_key(PETER_SKEY)
    signed = key.sign(text)
    assert verify_note(signed, PETER_VKEY).text == text
    i = data.draw(st.integers(0, len(text) - 1))
    changed = text[:i] + ("x" if text[i] != "x" else "y") + text[i + 1 :]
    with pytest.raises((NoteNotVerified, NoteError)):
        verify_note(changed + signed[len(text) :], PETER_VKEY)
