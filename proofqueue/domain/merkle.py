"""RFC 6962 Merkle trees: hashes, roots, inclusion and consistency proofs.

The hashing is RFC 6962 section 2.1 (SHA-256, leaf hash over 0x00 || leaf, node hash over
0x01 || left || right). Proofs are generated as RFC 6962 section 2.1.1 (PATH) and 2.1.2
(PROOF/SUBPROOF) define them, and verified with the algorithms of RFC 9162 sections 2.1.3.2
and 2.1.4.2.

Generation asks a ``SubtreeHash`` callable for the hash of a run of leaves (``MTH`` of leaves
``start`` to ``end``, end excluded), so a store can answer from hashes it keeps instead of
holding every leaf; ``subtree_hasher`` builds one over a list of leaf hashes.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

SubtreeHash = Callable[[int, int], bytes]
"""``subtree_hash(start, end)``: the Merkle tree hash of leaves start..end-1 (0 <= start < end)."""


class ProofError(ValueError):
    """A proof was asked for, or checked against, sizes and indexes that cannot hold."""


def leaf_hash(leaf: bytes) -> bytes:
    """The RFC 6962 hash of one leaf: SHA-256(0x00 || leaf)."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The RFC 6962 hash of an interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two smaller than ``n`` (n >= 2): where RFC 6962 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """The Merkle tree hash (MTH) of a list of leaf hashes; SHA-256 of nothing when empty."""
    if not leaf_hashes:
        return EMPTY_ROOT
    return subtree_hasher(leaf_hashes)(0, len(leaf_hashes))


def subtree_hasher(leaf_hashes: Sequence[bytes]) -> SubtreeHash:
    """A ``SubtreeHash`` over leaf hashes held in memory."""

    def subtree_hash(start: int, end: int) -> bytes:
        if not 0 <= start < end <= len(leaf_hashes):
            raise ProofError(f"no subtree [{start}, {end}) in a tree of {len(leaf_hashes)}")
        if end - start == 1:
            return leaf_hashes[start]
        k = split_point(end - start)
        return node_hash(subtree_hash(start, start + k), subtree_hash(start + k, end))

    return subtree_hash


def inclusion_proof(index: int, size: int, subtree_hash: SubtreeHash) -> list[bytes]:
    """PATH(index, D[0:size]): the sibling hashes from the leaf's up to the root's child."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is not in a tree of size {size}")
    return _path(index, 0, size, subtree_hash)


def _path(m: int, start: int, end: int, subtree_hash: SubtreeHash) -> list[bytes]:
    n = end - start
    if n == 1:
        return []
    k = split_point(n)
    if m < k:
        return [*_path(m, start, start + k, subtree_hash), subtree_hash(start + k, end)]
    return [*_path(m - k, start + k, end, subtree_hash), subtree_hash(start, start + k)]


def consistency_proof(old_size: int, new_size: int, subtree_hash: SubtreeHash) -> list[bytes]:
    """PROOF(old_size, D[0:new_size]): the hashes that show the old tree is a prefix of the new."""
    if not 0 < old_size <= new_size:
        raise ProofError(f"no consistency proof from size {old_size} to size {new_size}")
    return _subproof(old_size, 0, new_size, True, subtree_hash)


def _subproof(m: int, start: int, end: int, whole: bool, subtree_hash: SubtreeHash) -> list[bytes]:
    n = end - start
    if m == n:
        return [] if whole else [subtree_hash(start, end)]
    k = split_point(n)
    if m <= k:
        return [*_subproof(m, start, start + k, whole, subtree_hash), subtree_hash(start + k, end)]
    return [*_subproof(m - k, start + k, end, False, subtree_hash), subtree_hash(start, start + k)]


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root_hash: bytes
) -> bool:
    """True when ``proof`` shows leaf hash ``leaf`` at ``index`` in the tree of ``size`` with
    root ``root_hash`` (RFC 9162 section 2.1.3.2)."""
    if not 0 <= index < size or not _all_hashes(leaf, root_hash, *proof):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and hmac.compare_digest(r, root_hash)


def verify_consistency(
    old_size: int, new_size: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes
) -> bool:
    """True when ``proof`` shows the tree of ``old_size`` with root ``old_root`` is a prefix of
    the tree of ``new_size`` with root ``new_root`` (RFC 9162 section 2.1.4.2)."""
    if not 0 < old_size <= new_size or not _all_hashes(old_root, new_root, *proof):
        return False
    if old_size == new_size:
        return not proof and hmac.compare_digest(old_root, new_root)
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # an exact power of two: the old root is a node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and hmac.compare_digest(fr, old_root) and hmac.compare_digest(sr, new_root)


def _all_hashes(*values: bytes) -> bool:
    return all(len(v) == HASH_SIZE for v in values)
