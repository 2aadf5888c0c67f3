"""Top-n pruning of sparse rows, both code paths, against a per-row reference."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recloop.recsys.models import _sparse
from recloop.recsys.models._sparse import drop_diagonal, pruned_by_blocks, top_n_per_row


def reference_top_n(dense: np.ndarray, stored: np.ndarray, n: int) -> np.ndarray:
    """Per row: the n largest stored non-zero values, ties to the lower column, by plain sorting."""
    out = np.zeros_like(dense)
    for r in range(dense.shape[0]):
        cols = [c for c in range(dense.shape[1]) if stored[r, c] and dense[r, c] != 0]
        for c in sorted(cols, key=lambda c: (-dense[r, c], c))[:n]:
            out[r, c] = dense[r, c]
    return out


def tied_matrix(seed: int, density: float) -> sp.csr_matrix:
    """Random sparse values from a small set (many ties), some negative, one explicit zero."""
    rng = np.random.default_rng(seed)
    dense = rng.choice([-1.0, 0.5, 1.0, 2.0, 3.0], size=(15, 20))
    dense[rng.random(dense.shape) >= density] = 0.0
    m = sp.csr_matrix(dense)
    m.data[0] = 0.0  # an explicit stored zero must not count as an entry
    return m


@pytest.mark.parametrize("fill_ratio", [1, 10**9], ids=["sort-path", "threshold-path"])
@pytest.mark.parametrize("density", [0.2, 0.9])
@pytest.mark.parametrize("n", [1, 3, 20])
def test_top_n_per_row_matches_reference(
    monkeypatch: pytest.MonkeyPatch, fill_ratio: int, density: float, n: int
) -> None:
    monkeypatch.setattr(_sparse, "DENSE_FILL_RATIO", fill_ratio)
    m = tied_matrix(seed=n, density=density)
    stored = np.zeros(m.shape, bool)
    stored[np.repeat(np.arange(m.shape[0]), np.diff(m.indptr)), m.indices] = True
    expected = reference_top_n(m.toarray(), stored, n)
    got = top_n_per_row(m, n)
    np.testing.assert_array_equal(got.toarray(), expected)
    assert got.has_sorted_indices
    assert (np.diff(got.indptr) <= n).all()


def test_top_n_per_row_does_not_modify_its_input() -> None:
    m = tied_matrix(seed=0, density=0.5)
    before = m.copy()
    top_n_per_row(m, 2)
    assert (m != before).nnz == 0 and m.nnz == before.nnz


def test_drop_diagonal_uses_the_block_offset() -> None:
    full = sp.csr_matrix(np.arange(1.0, 26.0).reshape(5, 5))
    block = drop_diagonal(full[2:4], first_row=2)
    expected = full[2:4].toarray()
    expected[0, 2] = expected[1, 3] = 0.0
    np.testing.assert_array_equal(block.toarray(), expected)


def test_pruned_by_blocks_equals_one_block(monkeypatch: pytest.MonkeyPatch) -> None:
    m = sp.csr_matrix(tied_matrix(seed=1, density=0.7)[:, :15])  # square: a diagonal exists
    whole = pruned_by_blocks(lambda a, b: m[a:b], m.shape, 4)
    monkeypatch.setattr(_sparse, "BLOCK_ENTRIES", 2 * m.shape[1])  # two rows per block
    blocked = pruned_by_blocks(lambda a, b: m[a:b], m.shape, 4)
    np.testing.assert_array_equal(whole.toarray(), blocked.toarray())
    assert whole.dtype == np.float32
    assert not whole.diagonal().any()
