"""TF-IDF vectors over Sudachi content words and sparse cosine neighbours."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse

__all__ = ["tfidf", "neighbours", "SimilarityIndex"]


def _identity(doc: Sequence[str]) -> Sequence[str]:
    return doc


def tfidf(docs: Sequence[Sequence[str]], *, max_df: float = 1.0) -> tuple[sparse.csr_matrix, list[str]]:
    """L2-normalised TF-IDF (sublinear tf, smoothed idf) of pre-tokenised documents.

    Returns the matrix and its vocabulary (sorted, so column order is deterministic).
    Documents without any word become zero rows.
    """
    if not any(docs):
        return sparse.csr_matrix((len(docs), 0)), []
    # imported here: scikit-learn takes a second or two to import, and campaigns, personal
    # information (masking) and signals never need it
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, max_df=max_df if len(docs) >= 20 else 1.0)
    try:
        x = vec.fit_transform(docs)
    except ValueError:  # max_df pruned every term
        vec = TfidfVectorizer(analyzer=_identity, sublinear_tf=True)
        x = vec.fit_transform(docs)
    return x.tocsr().astype(np.float64), list(vec.get_feature_names_out())


#: Use the dense path when the transposed matrix fits in this many float64 values.
_DENSE_MAX_VALUES = 32_000_000
#: Rows per dense block in :meth:`SimilarityIndex.counts` are chosen so a block of
#: similarities (rows × all rows) holds at most this many values (128 MB in single precision).
_BLOCK_VALUES = 32_000_000


class SimilarityIndex:
    """Cosine similarities between the rows of an L2-normalised CSR matrix ``x``.

    Every similarity it returns is **bit for bit** the value of ``(x @ x.T)[i, j]`` as
    scipy's sparse product computes it: a sum over row ``i``'s stored terms, in their stored
    order, of ``x[i, k] * x[j, k]`` (products with a zero factor add ``+0.0`` and change
    nothing). Two ways to get there, chosen by the shape of the data:

    * *sparse* — large vocabularies, few shared terms: sparse products, as before;
    * *dense* — a small vocabulary shared by everyone (form-letter corpora where each text
      is similar to most others): the transposed matrix is kept dense and row ``i`` is
      ``x[i] @ xᵀ`` (scipy's CSR × dense loop: the same operations in the same order).
      :meth:`counts` screens whole blocks with a BLAS product and only recomputes exactly
      the few values within ``1e-12`` of the threshold (BLAS rounding is ~1e-15 here).

    Rows are computed on demand (:meth:`top`), so a caller that only needs the neighbour
    lists of a few rows never materialises the n × n matrix.
    """

    def __init__(self, x: sparse.csr_matrix, threshold: float) -> None:
        self.x = x.tocsr()
        self.threshold = threshold
        n, v = self.x.shape
        self.dense = v > 0 and n * v <= _DENSE_MAX_VALUES and self._dense_pays()
        if self.dense:
            self.xt_dense = np.ascontiguousarray(self.x.T.toarray())
        else:
            self.xt = self.x.T.tocsc()

    def _dense_pays(self) -> bool:
        # sparse work ~ Σ df² multiply-adds at ~20 ns, dense (BLAS) ~ n²·V at ~0.2 ns
        n, v = self.x.shape
        df = np.bincount(self.x.indices, minlength=v).astype(np.float64)
        return float(n) * n * v * 0.2 < float((df * df).sum()) * 20.0

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """``(columns, similarities)`` of the other rows with similarity ≥ threshold (column order)."""
        if self.dense:
            s = np.asarray(self.x[i] @ self.xt_dense).ravel()
            cols = np.flatnonzero(s >= self.threshold)
            vals = s[cols]
        else:
            r = (self.x[i] @ self.xt).tocsr()
            r.sort_indices()
            keep = r.data >= self.threshold
            cols, vals = r.indices[keep], r.data[keep]
        keep = cols != i
        return cols[keep].astype(np.int64), vals[keep]

    def top(self, i: int, top: int) -> list[tuple[int, float]]:
        """The ``top`` most similar other rows (score rounded to 1e-9 desc, then index)."""
        cols, vals = self.row(i)
        key = -np.round(vals, 9)
        if cols.size > top:
            kth = np.partition(key, top - 1)[top - 1]
            sel = key <= kth  # every row that can make the cut, ties included
            cols, vals, key = cols[sel], vals[sel], key[sel]
        order = np.lexsort((cols, key))[:top]
        return list(zip(cols[order].tolist(), vals[order].tolist(), strict=True))

    def counts(self, cap: int | None = None, chunk: int = 1024) -> np.ndarray:
        """For each row, the number of other rows with similarity ≥ threshold, or ``cap``
        if that is smaller (exact either way)."""
        n = self.x.shape[0]
        cap = n if cap is None else cap
        out = np.zeros(n, np.int64)
        thr = self.threshold
        if self.dense:
            chunk = max(1, min(chunk, _BLOCK_VALUES // max(1, n)))  # a block holds at most ~32 M values
            # single-precision BLAS screen; values within its error bound of the threshold
            # are settled exactly, and only where they can change the capped count
            xd = self.x.toarray().astype(np.float32)
            xtd = np.ascontiguousarray(self.xt_dense.astype(np.float32))
            eps = 4.0 * (self.x.shape[1] + 3) * 2.0**-24 + 1e-12
            hi, lo = np.float32(thr + eps), np.float32(thr - eps)
            for s in range(0, n, chunk):
                blk = xd[s : s + chunk] @ xtd
                m = blk.shape[0]
                blk[np.arange(m), s + np.arange(m)] = -np.inf
                sure = np.count_nonzero(blk >= hi, axis=1)
                out[s : s + m] = np.minimum(sure, cap)
                low = np.flatnonzero(sure < cap)  # only these can change
                if low.size:
                    maybe = np.count_nonzero(blk[low] >= lo, axis=1)
                    for r in low[maybe != sure[low]].tolist():
                        out[s + r] = min(self.row(s + r)[0].size, cap)
            return out
        chunk = min(chunk, 512)  # sparse products: the previous neighbour table's block size
        for s in range(0, n, chunk):
            blk = (self.x[s : s + chunk] @ self.xt).tocsr()
            m = blk.shape[0]
            rows = np.repeat(np.arange(m), np.diff(blk.indptr))
            ok = (blk.data >= thr) & (blk.indices != rows + s)
            out[s : s + m] = np.minimum(np.bincount(rows[ok], minlength=m), cap)
        return out


def neighbours(
    x: sparse.csr_matrix, threshold: float, *, top: int = 20, chunk: int = 512
) -> list[list[tuple[int, float]]]:
    """For each row, the other rows with cosine ≥ ``threshold`` (at most ``top``, best
    first, ties by index). Computed row by row (see :class:`SimilarityIndex`), never dense n×n."""
    index = SimilarityIndex(x, threshold)
    return [index.top(i, top) for i in range(x.shape[0])]
