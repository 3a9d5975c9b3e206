"""C2SP signed notes, keys, checkpoints and tlog proofs as text (``proofqueue.domain.note``,
``proofqueue.domain.checkpoint``). Real Ed25519 signatures are tested in test_tlog_signing."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proofqueue.domain.checkpoint import (
    Checkpoint,
    TlogProof,
    format_checkpoint,
    format_tlog_proof,
    parse_checkpoint,
    parse_tlog_proof,
)
from proofqueue.domain.note import (
    Note,
    NoteError,
    NoteNotVerified,
    Signature,
    VerifierKey,
    check_name,
    format_note,
    format_verifier_key,
    key_id,
    open_note,
    parse_note,
    parse_verifier_key,
)

# From golang.org/x/mod sumdb/note/note_test.go (TestNewVerifier, TestSign, TestOpen).
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
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

# From C2SP signed-note.md ("Example") and tlog-checkpoint.md (the opening example).
C2SP_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
C2SP_CHECKPOINT = (
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/"
    "Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)
# From C2SP tlog-proof.md: the lines before its (elided) checkpoint.
C2SP_PROOF_HEAD = (
    "c2sp.org/tlog-proof@v1\n"
    "extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ\n"
    "index 73894\n"
    "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n"
    "B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n"
    "EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=\n"
    "RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=\n"
    "AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=\n"
)


def fake_sign(public_key: bytes, message: bytes) -> bytes:
    """A stand-in signature scheme (not Ed25519): enough to test which signatures are used."""
    return hashlib.sha256(public_key + message).digest()


def fake_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    return signature == fake_sign(public_key, message)


def fake_key(name: str, seed: int = 1) -> VerifierKey:
    public_key = bytes([seed]) * 32
    return VerifierKey(name, key_id(name, public_key), public_key)


def signed_by(text: str, *keys: VerifierKey) -> str:
    sigs = [Signature(k.name, k.key_id, fake_sign(k.public_key, text.encode())) for k in keys]
    return format_note(text, sigs)


names = st.text(
    st.characters(blacklist_categories=["Cs", "Cc", "Zs", "Zl", "Zp"], blacklist_characters="+"),
    min_size=1,
    max_size=20,
).filter(lambda s: not any(ch.isspace() for ch in s))
lines = st.text(st.characters(blacklist_categories=["Cs", "Cc"]), max_size=30)
note_texts = st.lists(lines, min_size=1, max_size=5).map(lambda ls: "\n".join(ls) + "\n")
signatures = st.builds(
    Signature, names, st.binary(min_size=4, max_size=4), st.binary(min_size=1, max_size=80)
)
hashes = st.binary(min_size=32, max_size=32)
checkpoints = st.builds(
    Checkpoint,
    lines.filter(bool),
    st.integers(0, 2**64 - 1),
    hashes,
    st.lists(lines.filter(bool), max_size=3).map(tuple),
)


def one_line_note_error(excinfo: pytest.ExceptionInfo[Exception]) -> str:
    message = str(excinfo.value)
    assert message
    assert "\n" not in message
    return message


# Keys and names


@pytest.mark.parametrize(
    ("text", "name", "kid"),
    [(PETER_VKEY, "PeterNeumann", "c74f20a3"), (C2SP_VKEY, "example.com/foo", "530d903a")],
)
def test_the_published_verifier_keys_parse_and_format_back(text: str, name: str, kid: str) -> None:
    """Go's PeterNeumann key and C2SP's example key: name, key ID, 32-byte key, same text."""
    key = parse_verifier_key(text)
    assert (key.name, key.key_id.hex(), len(key.public_key)) == (name, kid, 32)
    assert key_id(name, key.public_key).hex() == kid
    assert str(key) == f"{name}+{kid}"
    assert format_verifier_key(key.name, key.public_key) == text


def test_every_mangling_of_a_verifier_key_is_rejected() -> None:
    """As Go's TestNewVerifier: every proper substring and every one-character change fails."""
    for i in range(len(PETER_VKEY) + 1):
        for j in range(i + 1, len(PETER_VKEY) + 1):
            if (i, j) != (0, len(PETER_VKEY)):
                with pytest.raises(NoteError):
                    parse_verifier_key(PETER_VKEY[i:j])
    for i, ch in enumerate(PETER_VKEY):
        with pytest.raises(NoteError):
            parse_verifier_key(PETER_VKEY[:i] + chr(ord(ch) + 1) + PETER_VKEY[i + 1 :])


def test_verifier_keys_of_another_type_or_length_are_rejected() -> None:
    """Go's two bad keys with adjusted key IDs (a longer key, type byte 0x65) and a 33-byte key."""
    with pytest.raises(NoteError, match="verifier key is not canonical base64"):
        parse_verifier_key(
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
        )
    long_key = base64.b64encode(b"\x01" + bytes(33)).decode()
    with pytest.raises(NoteError, match="is 33 bytes, not 32"):
        parse_verifier_key(f"PeterNeumann+c74f20a3+{long_key}")
    with pytest.raises(NoteError, match="not an Ed25519 key"):
        parse_verifier_key("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")


@pytest.mark.parametrize(
    "name", ["", "a b", "a+b", "tab\there", "nbsp\u00a0here", "ctl\x01", "line\u2028sep", "x\n"]
)
def test_names_that_break_the_spec_are_rejected_with_a_one_line_value_error(name: str) -> None:
    """Empty names, Unicode spaces, '+' and control characters are refused."""
    with pytest.raises(ValueError, match="key name") as excinfo:
        check_name(name)
    assert isinstance(excinfo.value, NoteError)
    one_line_note_error(excinfo)


@given(names)
def test_any_name_the_spec_allows_is_accepted(name: str) -> None:
    """Non-empty names without spaces, '+' or control characters pass."""
    check_name(name)


# Signed notes


def test_gos_signed_note_parses_into_text_and_signature() -> None:
    """The note text keeps its final newline; the signature holds key ID c74f20a3."""
    note = parse_note(PETER_TEXT + "\n" + PETER_SIG)
    assert note.text == PETER_TEXT
    [sig] = note.signatures
    assert (sig.name, sig.key_id.hex(), len(sig.signature)) == ("PeterNeumann", "c74f20a3", 64)
    assert format_note(note.text, note.signatures) == PETER_TEXT + "\n" + PETER_SIG


def test_the_last_blank_line_separates_text_from_signatures() -> None:
    """A text with blank lines of its own (C2SP's example poem) keeps them."""
    poem = (
        "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\n"
        "ed è subito sera.\n\n— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ"
        "2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n"
    )
    note = parse_note(poem)
    assert note.text.endswith(":\n\ned è subito sera.\n")
    assert [s.name for s in note.signatures] == ["quasimodo.example/salvatore"]


@pytest.mark.parametrize(
    "bad",
    [
        PETER_TEXT,
        PETER_TEXT + "\n",
        PETER_TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + PETER_TEXT + "\n" + PETER_SIG,
        "\udcff" + PETER_TEXT + "\n" + PETER_SIG,
        PETER_TEXT + "\n— Bad Name " + PETER_SIG.split(" ")[2],
        PETER_TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        PETER_TEXT + "\n" + PETER_SIG.replace("—", "-"),
        PETER_TEXT + "\n" + PETER_SIG.replace("AM=", "AN="),
        PETER_TEXT + "\n" + PETER_SIG.replace("=", ""),
        PETER_TEXT + "\n— PeterNeumann AAAA\n",
        PETER_TEXT + "\r\n" + PETER_SIG,
    ],
    ids=[
        "text only",
        "no signatures",
        "no final newline",
        "control character",
        "not UTF-8",
        "space in name",
        "line after signatures",
        "hyphen for em dash",
        "non-canonical base64",
        "unpadded base64",
        "signature too short",
        "carriage return",
    ],
)
def test_malformed_notes_are_rejected(bad: str) -> None:
    """Go's TestOpen bad messages and a few more all raise NoteError with one line."""
    with pytest.raises(NoteError) as excinfo:
        parse_note(bad)
    one_line_note_error(excinfo)


def test_a_note_may_carry_a_hundred_signatures_but_not_more() -> None:
    """The limit is above the 16 the spec requires verifiers to accept."""
    parse_note(PETER_TEXT + "\n" + PETER_SIG * 100)
    with pytest.raises(NoteError, match="at most 100 signatures"):
        parse_note(PETER_TEXT + "\n" + PETER_SIG * 101)


@given(note_texts, st.lists(signatures, min_size=1, max_size=4))
def test_formatted_notes_parse_back_to_the_same_text_and_signatures(
    text: str, sigs: list[Signature]
) -> None:
    """parse(format(text, signatures)) gives them back unchanged."""
    assert parse_note(format_note(text, sigs)) == Note(text, tuple(sigs))


@given(st.text(max_size=200) | note_texts.map(lambda t: t + "\n" + PETER_SIG))
def test_any_text_is_either_rejected_cleanly_or_is_exactly_a_formatted_note(text: str) -> None:
    """Parsing never fails with another error, and what it accepts formats back byte for byte."""
    try:
        note = parse_note(text)
    except NoteError:
        return
    assert format_note(note.text, note.signatures) == text


def test_notes_cannot_be_formatted_without_a_final_newline_or_signature() -> None:
    """format_note refuses a text without its newline and an empty signature list."""
    sig = Signature("a", b"\0" * 4, b"s")
    with pytest.raises(NoteError, match="ends with a newline"):
        format_note("no newline", [sig])
    with pytest.raises(NoteError, match="at least one signature"):
        format_note("text\n", [])
    with pytest.raises(NoteError, match="key name"):
        format_note("text\n", [Signature("a b", b"\0" * 4, b"s")])


# Opening a note with a verifier key (a stand-in signature scheme)


def test_a_note_opens_with_a_good_signature_and_ignores_unknown_signers() -> None:
    """Signatures by other keys are skipped, as the spec requires."""
    log, witness = fake_key("log.example"), fake_key("witness.example", 2)
    note = open_note(signed_by("body\n", witness, log), log, fake_verify)
    assert note.text == "body\n"


def test_a_note_without_the_keys_signature_names_who_did_sign() -> None:
    """Only other keys signed: the message lists them."""
    log, other = fake_key("log.example"), fake_key("other.example", 2)
    with pytest.raises(NoteNotVerified, match=r"not signed by log\.example \(signed by other"):
        open_note(signed_by("body\n", other), log, fake_verify)


def test_a_signature_by_another_key_of_the_same_name_is_reported_as_a_key_id_mismatch() -> None:
    """Same name, other key: the message gives both key IDs."""
    log, impostor = fake_key("log.example"), fake_key("log.example", 2)
    with pytest.raises(NoteNotVerified, match=f"key ID {impostor.key_id.hex()}"):
        open_note(signed_by("body\n", impostor), log, fake_verify)


def test_a_bad_signature_by_the_key_rejects_the_note() -> None:
    """A changed text, or a second failing signature by the key, is refused."""
    log = fake_key("log.example")
    signed = signed_by("body\n", log)
    with pytest.raises(NoteNotVerified, match=r"signature by log\.example\+\w{8} does not"):
        open_note(signed.replace("body", "bodY"), log, fake_verify)
    bad = Signature(log.name, log.key_id, b"x" * 32)
    twice = signed + format_note("t\n", [bad]).split("\n\n")[1]
    with pytest.raises(NoteNotVerified, match="does not verify"):
        open_note(twice, log, fake_verify)


# Checkpoints


def test_the_c2sp_example_checkpoint_parses_and_formats_back() -> None:
    """Origin, size and a 32-byte root; formatting gives the note text again."""
    text = parse_note(C2SP_CHECKPOINT).text
    checkpoint = parse_checkpoint(text)
    assert (checkpoint.origin, checkpoint.size) == ("example.com/behind-the-sofa", 20852163)
    assert checkpoint.root_hash == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert format_checkpoint(checkpoint) == text


@given(checkpoints)
def test_formatted_checkpoints_parse_back_unchanged(checkpoint: Checkpoint) -> None:
    """Any origin, size below 2**64, root and extension lines survive the round trip."""
    assert parse_checkpoint(format_checkpoint(checkpoint)) == checkpoint


ROOT = base64.b64encode(bytes(32)).decode()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (f"o\n1\n{ROOT}", "ends with a newline"),
        ("o\n1\n", "origin, a tree size and a root hash"),
        (f"\n1\n{ROOT}\n", "origin line is empty"),
        (f"o\n01\n{ROOT}\n", "without leading zeros"),
        (f"o\n-1\n{ROOT}\n", "without leading zeros"),
        (f"o\n+1\n{ROOT}\n", "without leading zeros"),
        (f"o\n\u0661\n{ROOT}\n", "without leading zeros"),
        (f"o\n{2**64}\n{ROOT}\n", "without leading zeros"),
        ("o\n1\nAAAA\n", "is 3 bytes, not 32"),
        ("o\n1\nnot base64!\n", "is not base64"),
        (f"o\n1\n{ROOT[:-2]}B=\n", "not canonical base64"),
        (f"o\n1\n{ROOT}\n\nx\n", "extension lines must not be empty"),
        (f"o\t\n1\n{ROOT}\n", "control character"),
    ],
)
def test_malformed_checkpoints_are_rejected_naming_the_problem(text: str, problem: str) -> None:
    """Each broken checkpoint raises NoteError saying what is wrong, on one line."""
    with pytest.raises(NoteError, match=problem) as excinfo:
        parse_checkpoint(text)
    one_line_note_error(excinfo)


def test_checkpoints_that_would_not_read_back_cannot_be_formatted() -> None:
    """A negative size, a short root or a newline in the origin is refused."""
    for bad in (
        Checkpoint("o", -1, bytes(32)),
        Checkpoint("o", 1, bytes(31)),
        Checkpoint("o\nx", 1, bytes(32)),
        Checkpoint("o", 1, bytes(32), ("",)),
    ):
        with pytest.raises(NoteError):
            format_checkpoint(bad)


# tlog proofs


def test_the_c2sp_example_proof_parses_with_a_real_checkpoint() -> None:
    """The spec's header, extra, index and five hashes, followed by a signed checkpoint."""
    text = C2SP_PROOF_HEAD + "\n" + C2SP_CHECKPOINT
    proof = parse_tlog_proof(text)
    assert proof.index == 73894
    assert proof.extra == base64.b64decode("YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ")
    assert len(proof.hashes) == 5
    assert proof.checkpoint == C2SP_CHECKPOINT
    assert format_tlog_proof(proof) == text


@given(
    st.integers(0, 2**64 - 1),
    st.lists(hashes, max_size=64).map(tuple),
    st.none() | st.binary(max_size=40),
)
def test_formatted_tlog_proofs_parse_back_unchanged(
    index: int, proof_hashes: tuple[bytes, ...], extra: bytes | None
) -> None:
    """Index, hashes, optional extra data and the checkpoint text survive the round trip."""
    proof = TlogProof(index, proof_hashes, C2SP_CHECKPOINT, extra)
    assert parse_tlog_proof(format_tlog_proof(proof)) == proof


HASH = base64.b64encode(bytes(32)).decode()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("c2sp.org/tlog-proof@v2\nindex 0\n\n" + C2SP_CHECKPOINT, "starts with the line"),
        ("c2sp.org/tlog-proof@v1\nindex 0\n" + C2SP_CHECKPOINT, "hash 0 is not base64"),
        ("c2sp.org/tlog-proof@v1\n\n" + C2SP_CHECKPOINT, "'index N' line"),
        ("c2sp.org/tlog-proof@v1\nindex 00\n\n" + C2SP_CHECKPOINT, "leading zeros"),
        ("c2sp.org/tlog-proof@v1\nindex 1\nAAAA\n\n" + C2SP_CHECKPOINT, "hash 0 is 3 bytes"),
        ("c2sp.org/tlog-proof@v1\nextra !\nindex 1\n\n" + C2SP_CHECKPOINT, "extra data is"),
        (f"c2sp.org/tlog-proof@v1\nindex 1\n{HASH}\n", "blank line before its checkpoint"),
        ("c2sp.org/tlog-proof@v1\nindex 1\n" + f"{HASH}\n" * 65 + "\n" + C2SP_CHECKPOINT, "64"),
        ("c2sp.org/tlog-proof@v1\nindex 1\n\nnot a note\n", "blank line"),
        ("c2sp.org/tlog-proof@v1\nindex 1\n\n" + PETER_TEXT + "\n" + PETER_SIG, "tree size"),
    ],
)
def test_malformed_tlog_proofs_are_rejected_naming_the_problem(text: str, problem: str) -> None:
    """Wrong header, missing index, bad hashes, too many hashes, or a bad checkpoint."""
    with pytest.raises(NoteError, match=problem) as excinfo:
        parse_tlog_proof(text)
    one_line_note_error(excinfo)


@given(st.text(max_size=300) | st.just(C2SP_PROOF_HEAD).map(lambda h: h + "\n" + C2SP_CHECKPOINT))
def test_any_text_is_either_rejected_cleanly_or_is_exactly_a_formatted_tlog_proof(
    text: str,
) -> None:
    """Parsing a tlog proof never fails with another error, and accepted texts format back."""
    try:
        proof = parse_tlog_proof(text)
    except NoteError:
        return
    assert format_tlog_proof(proof) == text
