"""Scalable selection solvers: kNN similarity graphs, DIAM's batch (Eq. 9), k-center greedy.

Modules
-------
knn         exact (blocked) k-nearest-neighbour adjacency of Eq. 10, its symmetrisation
            (Algorithm 2, line 6) and an optional PCA-based approximation
objective   Eq. 9's objective and what its solvers share: argument checks, the summed
            similarity operator
greedy_swap DIAM's default batch: greedy construction on the binary Eq. 9 plus improving
            swaps (the objective of the paper, minimised directly)
greedy      the loop every greedy batch selector shares (prepare / get_scores / get_next_idx / add)
kcenter     k-center greedy (Coreset baseline) with a running min-distance vector
reference   kept for fidelity, off the default path: the authors' recipe (``authors``) and
            the convexified relaxation of Algorithm 2 (``relaxation``)

Apart from ``reference.authors`` (dense, pools up to about 15,000 after subsampling), none of
them builds an ``n x n`` dense array.

References
----------
Sec. 5.2, Eq. 9-10 and Algorithm 2 of the paper; Coreset baseline of Sec. 6.1.
"""
