"""Sparse item-item matrices built a block of rows at a time and pruned to the top-n per row.

ItemKNN and RP3beta both need "compute a row block of an item x item product, drop the diagonal,
keep the n largest entries of each row". Doing it by blocks bounds memory to one block instead of
the full n_items x n_items product; the pruning itself is one vectorised pass per block.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

# Entries of the dense-equivalent block (rows x n_cols) processed at once: about 32 MB of float64.
BLOCK_ENTRIES = 1 << 22
# Above one stored entry in this many cells, a dense row threshold beats sorting the entries.
DENSE_FILL_RATIO = 8

RowBlock = Callable[[int, int], sp.csr_matrix]


def top_n_per_row(matrix: sp.csr_matrix, n: int) -> sp.csr_matrix:
    """Keep the n largest stored non-zero entries of each row (ties: lower column first).

    The input must hold no duplicate entries (scipy's products never do); it is not modified.
    Dense-ish matrices go through a per-row threshold (linear time), sparse ones through one
    sort of their entries; both give the same result and neither loops over rows.
    """
    m = sp.csr_matrix(matrix)
    rows = _entry_rows(m)
    if not m.data.all():  # explicit zeros are not entries worth keeping
        m = _subset(m, rows, np.flatnonzero(m.data))
        rows = _entry_rows(m)
    if m.nnz * DENSE_FILL_RATIO >= m.shape[0] * m.shape[1]:
        keep = _top_n_by_threshold(m, rows, n)
    else:
        keep = _top_n_by_sort(m, rows, n)
    out = _subset(m, rows, keep)
    out.sort_indices()
    return out


def _top_n_by_sort(m: sp.csr_matrix, rows: np.ndarray, n: int) -> np.ndarray:
    """Entry positions to keep: lexsort by (row, -value, column), then rank within the row."""
    order = np.lexsort((m.indices, -m.data, rows))  # rows stay grouped and ascending
    rank = np.arange(len(order)) - m.indptr[rows]
    return np.sort(order[rank < n])


def _top_n_by_threshold(m: sp.csr_matrix, rows: np.ndarray, n: int) -> np.ndarray:
    """Entry positions to keep: above each row's n-th largest value, plus its leftmost ties."""
    if n >= m.shape[1]:
        return np.arange(m.nnz)
    dense = np.full(m.shape, -np.inf)  # -inf marks "not stored", below any stored value
    dense[rows, m.indices] = m.data
    threshold = -np.partition(-dense, n - 1, axis=1)[:, n - 1 : n]
    above = dense > threshold
    ties = (dense == threshold) & np.isfinite(dense)
    room = n - above.sum(axis=1, keepdims=True)
    keep = above | (ties & (np.cumsum(ties, axis=1) <= room))
    return np.flatnonzero(keep[rows, m.indices])


def drop_diagonal(block: sp.csr_matrix, first_row: int) -> sp.csr_matrix:
    """Remove the entries of a row block (rows from `first_row` on) that lie on the diagonal."""
    m = sp.csr_matrix(block)
    rows = _entry_rows(m)
    return _subset(m, rows, np.flatnonzero(m.indices != rows + first_row))


def _entry_rows(m: sp.csr_matrix) -> np.ndarray:
    """The row of every stored entry."""
    return np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))


def _subset(m: sp.csr_matrix, rows: np.ndarray, keep: np.ndarray) -> sp.csr_matrix:
    """The entries at positions `keep` (grouped by ascending row) as a CSR of the same shape."""
    counts = np.bincount(rows[keep], minlength=m.shape[0])
    indptr = np.concatenate(([0], np.cumsum(counts)))
    return sp.csr_matrix((m.data[keep], m.indices[keep], indptr), shape=m.shape)


def pruned_by_blocks(row_block: RowBlock, shape: tuple[int, int], n: int) -> sp.csr_matrix:
    """Assemble a square-indexed matrix from row blocks, each without diagonal and top-n pruned.

    `row_block(start, stop)` returns rows start..stop-1 of the unpruned matrix as CSR.
    """
    n_rows, n_cols = shape
    step = max(1, BLOCK_ENTRIES // max(1, n_cols))
    blocks = [
        top_n_per_row(drop_diagonal(row_block(start, min(start + step, n_rows)), start), n)
        for start in range(0, n_rows, step)
    ]
    if not blocks:
        return sp.csr_matrix(shape, dtype=np.float32)
    return sp.csr_matrix(sp.vstack(blocks, format="csr"), dtype=np.float32)
