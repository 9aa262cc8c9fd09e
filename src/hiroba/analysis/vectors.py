"""TF-IDF vectors over Sudachi content words and sparse cosine neighbours."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

__all__ = ["tfidf", "neighbours"]


def _identity(doc: Sequence[str]) -> Sequence[str]:
    return doc


def tfidf(docs: Sequence[Sequence[str]], *, max_df: float = 1.0) -> tuple[sparse.csr_matrix, list[str]]:
    """L2-normalised TF-IDF (sublinear tf, smoothed idf) of pre-tokenised documents.

    Returns the matrix and its vocabulary (sorted, so column order is deterministic).
    Documents without any word become zero rows.
    """
    if not any(docs):
        return sparse.csr_matrix((len(docs), 0)), []
    vec = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, max_df=max_df if len(docs) >= 20 else 1.0)
    try:
        x = vec.fit_transform(docs)
    except ValueError:  # max_df pruned every term
        vec = TfidfVectorizer(analyzer=_identity, sublinear_tf=True)
        x = vec.fit_transform(docs)
    return x.tocsr().astype(np.float64), list(vec.get_feature_names_out())


def neighbours(
    x: sparse.csr_matrix, threshold: float, *, top: int = 20, chunk: int = 512
) -> list[list[tuple[int, float]]]:
    """For each row, the other rows with cosine ≥ ``threshold`` (at most ``top``, best
    first, ties by index). Computed in row chunks of a sparse product, never dense n×n."""
    n = x.shape[0]
    out: list[list[tuple[int, float]]] = []
    xt = x.T.tocsc()
    for s in range(0, n, chunk):
        block = (x[s : s + chunk] @ xt).tocsr()
        block.data[block.data < threshold] = 0.0
        block.eliminate_zeros()
        for r in range(block.shape[0]):
            lo, hi = block.indptr[r], block.indptr[r + 1]
            cols = block.indices[lo:hi]
            vals = block.data[lo:hi]
            keep = cols != s + r
            cols, vals = cols[keep], vals[keep]
            order = np.lexsort((cols, -np.round(vals, 9)))[:top]
            out.append([(int(cols[i]), float(vals[i])) for i in order])
    return out
