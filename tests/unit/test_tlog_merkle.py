"""RFC 6962 Merkle trees: hashes, roots, inclusion and consistency proofs
(``proofqueue.domain.merkle``)."""

from __future__ import annotations

import base64
import functools
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proofqueue.domain import merkle
from proofqueue.domain.merkle import (
    EMPTY_ROOT,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    subtree_hasher,
    verify_consistency,
    verify_inclusion,
)


def b64(text: str) -> bytes:
    return base64.b64decode(text)


# From transparency-dev/merkle testonly/constants.go: LeafInputs() and RootHashes().
LEAF_INPUTS = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOT_HASHES = [
    bytes.fromhex(h)
    for h in (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]

# From transparency-dev/merkle testdata/inclusion/{1,2,3,4}/happy-path.json and
# testdata/inclusion/single-entry/matching-root-and-leaf.json:
# (index, size, leaf hash, proof, root).
INCLUSION_VECTORS = [
    (
        0,
        8,
        "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
        [
            "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",
            "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
            "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=",
        ],
        "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",
    ),
    (
        5,
        8,
        "QnGia+DYqE8L1UyMMC58s6O10fpngKQLzOKHNHfatlg=",
        [
            "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=",
            "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=",
            "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=",
        ],
        "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",
    ),
    (
        2,
        3,
        "ApjRIpBtz8EIkstTpzmS/FufST6kybrbJ7eRtBJ6f+c=",
        ["+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU="],
        "rra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc=",
    ),
    (
        1,
        5,
        "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",
        [
            "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
            "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
            "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=",
        ],
        "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=",
    ),
    (
        0,
        1,
        "DTrtAjFI/9KiWfvQzcf7PPl1ZYdg03dbgq9vkKrMLfw=",
        [],
        "DTrtAjFI/9KiWfvQzcf7PPl1ZYdg03dbgq9vkKrMLfw=",
    ),
]

# From transparency-dev/merkle testdata/consistency/{1,2,3,4}/happy-path.json:
# (old size, new size, old root, new root, proof).
CONSISTENCY_VECTORS = [
    (
        1,
        8,
        "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
        "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",
        [
            "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",
            "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
            "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=",
        ],
    ),
    (
        6,
        8,
        "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=",
        "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",
        [
            "DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=",
            "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=",
            "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=",
        ],
    ),
    (
        2,
        5,
        "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=",
        "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=",
        [
            "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
            "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=",
        ],
    ),
    (
        6,
        7,
        "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=",
        "3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=",
        [
            "DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=",
            "sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8=",
            "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=",
        ],
    ),
]

TEST_LEAVES = [leaf_hash(x) for x in LEAF_INPUTS]


def flip(value: bytes, bit: int = 0) -> bytes:
    """``value`` with one bit changed."""
    return bytes([value[0] ^ (1 << bit)]) + value[1:]


def leaves(n: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(2, "big")) for i in range(n)]


@functools.cache
def tree(n: int) -> tuple[list[bytes], merkle.SubtreeHash, bytes]:
    """The leaf hashes of a tree of ``n`` numbered leaves, a hasher over them and its root."""
    hashes = leaves(n)
    return hashes, functools.cache(subtree_hasher(hashes)), root(hashes)


def reference_root(hashes: Sequence[bytes]) -> bytes:
    """The root built bottom-up, pairing neighbours and carrying an odd last node up as is:
    another way to the RFC 6962 tree hash, written independently of the module."""
    level = list(hashes)
    if not level:
        return EMPTY_ROOT
    while len(level) > 1:
        pairs = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        level = pairs + level[len(pairs) * 2 :]
    return level[0]


def test_leaf_and_node_hashes_are_rfc6962_domain_separated() -> None:
    """Leaf hash is SHA-256(0x00 || leaf), node hash SHA-256(0x01 || left || right)."""
    assert leaf_hash(b"") == ROOT_HASHES[1]
    assert node_hash(TEST_LEAVES[0], TEST_LEAVES[1]) == ROOT_HASHES[2]


def test_roots_match_the_published_root_hashes_for_every_prefix() -> None:
    """The tree hashes of the first 0..8 test leaves match transparency-dev/merkle's."""
    assert [root(TEST_LEAVES[:n]) for n in range(9)] == ROOT_HASHES


@given(st.lists(st.binary(min_size=32, max_size=32), max_size=70))
def test_the_root_equals_an_independent_bottom_up_construction(hashes: list[bytes]) -> None:
    """Recursive splitting at the largest power of two and bottom-up pairing agree."""
    assert root(hashes) == reference_root(hashes)


@pytest.mark.parametrize(("index", "size", "leaf", "proof", "root_hash"), INCLUSION_VECTORS)
def test_published_inclusion_proofs_verify(
    index: int, size: int, leaf: str, proof: list[str], root_hash: str
) -> None:
    """Each happy-path inclusion vector verifies, and fails with its first byte changed."""
    hashes = [b64(p) for p in proof]
    assert verify_inclusion(index, size, b64(leaf), hashes, b64(root_hash))
    assert not verify_inclusion(index, size, flip(b64(leaf)), hashes, b64(root_hash))


@pytest.mark.parametrize(
    ("index", "size", "leaf", "proof", "root_hash"),
    [v for v in INCLUSION_VECTORS if v[1] <= 8 and v[1] > 1],
)
def test_generated_inclusion_proofs_equal_the_published_ones(
    index: int, size: int, leaf: str, proof: list[str], root_hash: str
) -> None:
    """Over the published test leaves, generation gives the published proof byte for byte."""
    assert TEST_LEAVES[index] == b64(leaf)
    hasher = subtree_hasher(TEST_LEAVES[:size])
    assert inclusion_proof(index, size, hasher) == [b64(p) for p in proof]
    assert root(TEST_LEAVES[:size]) == b64(root_hash)


@pytest.mark.parametrize(("old", "new", "old_root", "new_root", "proof"), CONSISTENCY_VECTORS)
def test_published_consistency_proofs_verify_and_are_generated(
    old: int, new: int, old_root: str, new_root: str, proof: list[str]
) -> None:
    """Each happy-path consistency vector verifies and is what generation gives."""
    hashes = [b64(p) for p in proof]
    assert verify_consistency(old, new, hashes, b64(old_root), b64(new_root))
    assert consistency_proof(old, new, subtree_hasher(TEST_LEAVES[:new])) == hashes
    assert not verify_consistency(old, new, hashes, b64(new_root), b64(old_root))


# Failing cases, also from transparency-dev/merkle testdata/: inclusion/1/leafIdx-plus-@1.json,
# inclusion/1/treeSize-mul-@2.json, inclusion/1/modified-proof[0]-bit-@3.json,
# consistency/1/truncated-proof.json, consistency/2/trailing-garbage.json.
def test_published_failing_vectors_are_rejected() -> None:
    """Wrong index, doubled size, a changed proof bit, a short proof, a trailing empty hash."""
    _, _, leaf_b64, proof_b64, root_b64 = INCLUSION_VECTORS[0]
    leaf, rt, hashes = b64(leaf_b64), b64(root_b64), [b64(p) for p in proof_b64]
    assert not verify_inclusion(1, 8, leaf, hashes, rt)
    assert not verify_inclusion(0, 16, leaf, hashes, rt)
    modified = [b64("nqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c="), *hashes[1:]]
    assert not verify_inclusion(0, 8, leaf, modified, rt)
    _, _, old_root, new_root, cproof = CONSISTENCY_VECTORS[0]
    assert not verify_consistency(1, 8, [b64(p) for p in cproof[:2]], b64(old_root), b64(new_root))
    _, _, old_root, new_root, cproof = CONSISTENCY_VECTORS[1]
    padded = [*(b64(p) for p in cproof), b""]
    assert not verify_consistency(6, 8, padded, b64(old_root), b64(new_root))


@pytest.mark.parametrize("size", range(1, 65))
def test_every_inclusion_proof_verifies_and_any_tampering_fails(size: int) -> None:
    """For each index: the proof verifies; a changed hash, leaf, root, index or length fails."""
    hashes, hasher, rt = tree(size)
    for index in range(size):
        proof = inclusion_proof(index, size, hasher)
        leaf = hashes[index]
        assert verify_inclusion(index, size, leaf, proof, rt)
        for k in range(len(proof)):
            tampered = [*proof[:k], flip(proof[k], k % 8), *proof[k + 1 :]]
            assert not verify_inclusion(index, size, leaf, tampered, rt)
        assert not verify_inclusion(index, size, flip(leaf), proof, rt)
        assert not verify_inclusion(index, size, leaf, proof, flip(rt))
        assert not verify_inclusion(index, size, leaf, [*proof, leaf], rt)
        if proof:
            assert not verify_inclusion(index, size, leaf, proof[:-1], rt)
        for other in (index - 1, index + 1):
            if 0 <= other < size:
                assert not verify_inclusion(other, size, leaf, proof, rt)
        for other_size in (size - 1, size + 1, 2 * size):
            if index < other_size <= 64:
                assert not verify_inclusion(index, other_size, leaf, proof, tree(other_size)[2])
        assert not verify_inclusion(size, size, leaf, proof, rt)


@pytest.mark.parametrize("new", range(1, 65))
def test_every_consistency_proof_verifies_and_any_tampering_fails(new: int) -> None:
    """For each old size: the proof verifies; changed hashes, roots or sizes fail."""
    _, hasher, new_root = tree(new)
    for old in range(1, new + 1):
        old_root = tree(old)[2]
        proof = consistency_proof(old, new, hasher)
        assert verify_consistency(old, new, proof, old_root, new_root)
        for k in range(len(proof)):
            tampered = [*proof[:k], flip(proof[k], k % 8), *proof[k + 1 :]]
            assert not verify_consistency(old, new, tampered, old_root, new_root)
        assert not verify_consistency(old, new, proof, flip(old_root), new_root)
        assert not verify_consistency(old, new, proof, old_root, flip(new_root))
        assert not verify_consistency(old, new, [*proof, new_root], old_root, new_root)
        if proof:
            assert not verify_consistency(old, new, proof[:-1], old_root, new_root)
        for other in (old - 1, old + 1):
            if 1 <= other <= new and other != old:
                assert not verify_consistency(other, new, proof, tree(other)[2], new_root)
        for other in (new - 1, new + 1):
            if old <= other <= 64 and other != new:
                assert not verify_consistency(old, other, proof, old_root, tree(other)[2])


@functools.cache
def proof_length(kind: str, a: int, b: int) -> int:
    hasher = tree(64)[1]
    proof = (
        inclusion_proof(a, b, hasher) if kind == "inclusion" else consistency_proof(a, b, hasher)
    )
    return len(proof)


@pytest.mark.parametrize("size", range(1, 65))
def test_a_proof_of_the_wrong_length_for_the_claimed_size_fails_even_with_true_hashes(
    size: int,
) -> None:
    """A proof replayed under another tree size, with the real leaf and roots, fails whenever
    that size needs a proof of another length (the end-of-path checks of RFC 9162)."""
    hashes, hasher, rt = tree(size)
    for other in range(1, 65):
        for index in range(min(size, other)):
            if other != size and proof_length("inclusion", index, other) != proof_length(
                "inclusion", index, size
            ):
                proof = inclusion_proof(index, size, hasher)
                assert not verify_inclusion(index, other, hashes[index], proof, rt)
        for old in range(1, min(size, other) + 1):
            if other != size and proof_length("consistency", old, other) != proof_length(
                "consistency", old, size
            ):
                proof = consistency_proof(old, size, hasher)
                assert not verify_consistency(old, other, proof, tree(old)[2], rt)


def test_a_log_that_rewrote_a_leaf_has_no_consistency_proof() -> None:
    """Old tree of 5, new tree of 9 with leaf 3 changed: the honest proof of the new log fails."""
    old_hashes = leaves(5)
    rewritten = leaves(9)
    rewritten[3] = leaf_hash(b"rewritten")
    proof = consistency_proof(5, 9, subtree_hasher(rewritten))
    assert not verify_consistency(5, 9, proof, root(old_hashes), root(rewritten))


def test_impossible_sizes_and_indexes_are_refused() -> None:
    """No proof from size 0, to a smaller tree, or for an index outside the tree."""
    hasher = subtree_hasher(leaves(4))
    with pytest.raises(ProofError, match="index 4 is not in a tree of size 4"):
        inclusion_proof(4, 4, hasher)
    with pytest.raises(ProofError, match="from size 0 to size 4"):
        consistency_proof(0, 4, hasher)
    with pytest.raises(ProofError, match="from size 5 to size 4"):
        consistency_proof(5, 4, hasher)
    with pytest.raises(ProofError, match=r"no subtree \[2, 5\) in a tree of 4"):
        hasher(2, 5)


def test_verification_rejects_impossible_sizes_and_short_hashes() -> None:
    """Size 0, old > new, negative index, and hashes that are not 32 bytes all fail."""
    hashes, _, rt = tree(4)
    assert not verify_inclusion(-1, 4, hashes[0], [], rt)
    assert not verify_inclusion(0, 0, hashes[0], [], rt)
    assert not verify_inclusion(0, 1, hashes[0][:31], [], hashes[0][:31])
    assert not verify_consistency(0, 4, [], EMPTY_ROOT, rt)
    assert not verify_consistency(5, 4, [], rt, rt)
    assert not verify_consistency(4, 4, [rt], rt, rt)
    assert not verify_consistency(4, 4, [], rt, flip(rt))
    assert not verify_consistency(4, 4, [], rt[:8], rt[:8])
    assert verify_consistency(4, 4, [], rt, rt)


def test_proofs_are_generated_from_subtree_hashes_alone() -> None:
    """Generation only asks the callable for subtree hashes, never for the leaf list."""
    hashes, hasher, rt = tree(13)
    asked: list[tuple[int, int]] = []

    def recording(start: int, end: int) -> bytes:
        asked.append((start, end))
        return hasher(start, end)

    proof = inclusion_proof(6, 13, recording)
    assert verify_inclusion(6, 13, hashes[6], proof, rt)
    assert asked == [(7, 8), (4, 6), (0, 4), (8, 13)]
