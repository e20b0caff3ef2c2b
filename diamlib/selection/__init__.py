"""Scalable selection solvers: kNN similarity graphs, DIAM's relaxed QP, k-center greedy.

Modules
-------
knn       exact (blocked) k-nearest-neighbour adjacency of Eq. 10, its symmetrisation
          (Algorithm 2, line 6) and an optional PCA-based approximation
qp        convexified relaxation of Eq. 9 solved by accelerated projected gradient on
          the capped simplex (reference path through cvxpy)
greedy    the loop every greedy batch selector shares (prepare / get_scores / get_next_idx / add)
kcenter   k-center greedy (Coreset baseline) with a running min-distance vector

None of them builds an ``n x n`` dense array.

References
----------
Sec. 5.2, Eq. 9-10 and Algorithm 2 of the paper; Coreset baseline of Sec. 6.1.
"""
