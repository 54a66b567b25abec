"""hwbopt's own simplex pivots on an LP held as ``[A | −I] z = 0``, for two uses that need a
basis kept between many nearby solves, which a HiGHS run per solve makes costly: the exact
cut-response curve (``hwbopt.analyses.curve``: a parametric dual simplex along one input) and
the stress engine's walk from scenario to scenario (``hwbopt.batch.walk``). ``pivots`` holds
the state and decides; ``kernels`` runs the solves, pivots and ratio tests compiled (numba).
"""
