"""Declaring the model once, building it either as Pyomo components or straight into arrays.

The part modules declare variables, constraints and the objective through :func:`var`,
:func:`constraint`, :func:`objective` and :func:`quicksum`. On a ``pyo.ConcreteModel`` these
make the Pyomo components they always made (:func:`hwbopt.model.build_model`, for Pyomo's
writers, the persistent baselines and the tests that walk Pyomo expressions). On an
:class:`ArrayModel` they build the compiled arrays directly (:func:`hwbopt.model.build_compiled`,
what ``hwbopt.pipeline.build`` uses): no Pyomo component or expression objects and no
standard-form compiler pass, which at a million columns was most of the build's time and
memory (benchmarks/README.md, scale.py).

Both routes must give the same LP to the last bit (a different rounding in one coefficient
can send HiGHS to another optimal vertex), so the expression nodes below follow Pyomo's own
operator dispatch (which side a term is appended to, that ``1 *`` vanishes and ``0 *`` does
not, what becomes a sum of sums) and :class:`_Walker` follows Pyomo's ``LinearRepnVisitor``
(products keep a pending multiplier, sums of sums add their parts' accumulated coefficients).
The columns come in the order Pyomo's ``LinearStandardFormCompiler`` gives them: whole variable
components in the order first met (objective first, then the constraints), each in index
order, without those no row or cost uses. ``tests/test_build_arrays.py`` compares the two
routes array by array.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Sequence
from itertools import chain
from typing import Any

import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp

from hwbopt.compile import Compiled

# numbers a rule may combine with expressions (Pyomo's native numeric types, as the model
# writes them: Python's, and numpy's should a derived figure stay one)
NATIVE = frozenset((int, float, np.float64, np.int64))
INF = float("inf")
SKIP = pyo.Constraint.Skip

# expression node kinds, as Pyomo's dispatch sees them
_VAR, _MONO, _LIN, _SUM, _OTHER = 1, 2, 3, 4, 5

# (domain, lower, upper, integer); Pyomo's sets are not hashable, so looked up by identity
_DOMAINS: tuple[tuple[Any, float | None, float | None, bool], ...] = (
    (pyo.Reals, None, None, False),
    (pyo.NonNegativeReals, 0, None, False),
    (pyo.NonNegativeIntegers, 0, None, True),
    (pyo.Binary, 0, 1, True),
)


def _domain(within: Any) -> tuple[float | None, float | None, bool]:
    for dom, lo, hi, integer in _DOMAINS:
        if within is dom:
            return lo, hi, integer
    raise ModelError(f"unsupported variable domain {within}")


class ModelError(ValueError):
    """A rule gave something that is not a linear constraint."""


# ---------------------------------------------------------------------------------------------
# expression nodes
# ---------------------------------------------------------------------------------------------


class Node:
    """A linear expression over :class:`ArrayModel` columns (operators as Pyomo's)."""

    __slots__ = ()
    kind = 0
    __hash__ = None  # type: ignore[assignment]  # == builds a constraint, as in Pyomo

    def __add__(self, other: Any) -> Any:
        return _add(self, other)

    def __radd__(self, other: Any) -> Any:
        return _add(other, self)

    def __sub__(self, other: Any) -> Any:
        return _add(self, _neg(other))

    def __rsub__(self, other: Any) -> Any:
        return _add(other, _neg(self))

    def __neg__(self) -> Any:
        return _neg(self)

    def __mul__(self, other: Any) -> Any:
        return _mul(self, other)

    def __rmul__(self, other: Any) -> Any:
        return _mul(self, other)

    def __truediv__(self, other: Any) -> Any:
        if other.__class__ not in NATIVE:
            raise ModelError("division by an expression is not linear")
        return _div(self, other)

    def __le__(self, other: Any) -> Relation:
        return Relation(self, other, False)

    def __ge__(self, other: Any) -> Relation:
        return Relation(other, self, False)

    def __eq__(self, other: Any) -> Relation:  # type: ignore[override]
        return Relation(self, other, True)


class Col(Node):
    """One column: ``comp`` is its variable component's number in the model."""

    __slots__ = ("comp", "id")
    kind = _VAR

    def __init__(self, id_: int, comp: int) -> None:
        self.id = id_
        self.comp = comp

    def __mul__(self, k: Any) -> Any:  # the commonest product, without the general dispatch
        if k.__class__ in NATIVE:
            return self if k == 1 else Mono(k, self)
        return _mul(self, k)

    __rmul__ = __mul__


class Mono(Node):
    """``coef × col`` (Pyomo's ``MonomialTermExpression``)."""

    __slots__ = ("coef", "col")
    kind = _MONO

    def __init__(self, coef: Any, col: Col) -> None:
        self.coef = coef
        self.col = col

    def __mul__(self, k: Any) -> Any:
        if k.__class__ in NATIVE:
            return self if k == 1 else Mono(k * self.coef, self.col)
        return _mul(self, k)

    __rmul__ = __mul__


class Lin(Node):
    """Pyomo's ``LinearExpression``: columns, monomials and numbers."""

    __slots__ = ("args",)
    kind = _LIN

    def __init__(self, args: list[Any]) -> None:
        self.args = args


class Sum(Node):
    """Pyomo's ``SumExpression``: any expressions and numbers."""

    __slots__ = ("args",)
    kind = _SUM

    def __init__(self, args: list[Any]) -> None:
        self.args = args


class Scaled(Node):
    """A product with a number, a negation (``k = -1``) or a division (``div``)."""

    __slots__ = ("arg", "div", "k")
    kind = _OTHER

    def __init__(self, k: Any, arg: Node, div: bool = False) -> None:
        self.k = k
        self.arg = arg
        self.div = div


class Relation:
    """``lhs <= rhs`` or ``lhs == rhs`` (as Pyomo orders a relation's two sides)."""

    __slots__ = ("equality", "lhs", "rhs")

    def __init__(self, lhs: Any, rhs: Any, equality: bool) -> None:
        self.lhs = lhs
        self.rhs = rhs
        self.equality = equality

    def __bool__(self) -> bool:
        raise ModelError("a constraint is not a truth value")


class _Kinds(dict[type, int]):
    def __missing__(self, cls: type) -> int:
        raise ModelError(f"a {cls.__name__} cannot be part of a linear expression")


# the kind of anything a rule may combine, by class: one dict lookup per operand
_KINDS = _Kinds({Col: _VAR, Mono: _MONO, Lin: _LIN, Sum: _SUM, Scaled: _OTHER})
_KINDS.update(dict.fromkeys(NATIVE, 0))


def _kind(x: Any) -> int:
    return _KINDS[x.__class__]


def _add(a: Any, b: Any) -> Any:
    """``a + b`` as Pyomo's ``_add_dispatcher`` builds it (see numeric_expr.py)."""
    ka, kb = _KINDS[a.__class__], _KINDS[b.__class__]
    if not ka:
        if not kb:
            return a + b
        if not a:
            return b
        if kb <= _MONO:
            return Lin([a, b])
        if kb == _LIN:
            return Lin([*b.args, a])
        if kb == _SUM:
            return Sum([*b.args, a])
        return Sum([a, b])
    if not kb:
        if not b:
            return a
        if ka <= _MONO:
            return Lin([a, b])
        if ka == _LIN:
            return Lin([*a.args, b])
        if ka == _SUM:
            return Sum([*a.args, b])
        return Sum([a, b])
    if ka <= _MONO:
        if kb <= _MONO:
            return Lin([a, b])
        if kb == _LIN:
            return Lin([*b.args, a])
        if kb == _SUM:
            return Sum([*b.args, a])
        return Sum([a, b])
    if ka == _LIN:
        if kb <= _MONO:
            return Lin([*a.args, b])
        if kb == _LIN:
            return Lin([*a.args, *b.args])
        if kb == _SUM:
            return Sum([*b.args, a])
        return Sum([a, b])
    if ka == _SUM:
        if kb == _SUM:
            return Sum([*a.args, *b.args])
        return Sum([*a.args, b])
    if kb == _SUM:  # other + sum
        return Sum([*b.args, a])
    return Sum([a, b])


def _neg(a: Any) -> Any:
    k = _kind(a)
    if not k:
        return -a
    if k == _VAR:
        return Mono(-1, a)
    if k == _MONO:
        return Mono(-a.coef, a.col)
    if k in (_LIN, _SUM) and not a.args:
        return 0
    return Scaled(-1, a)


def _mul(a: Node, k: Any) -> Any:
    if k.__class__ not in NATIVE:
        raise ModelError("a product of two expressions is not linear")
    if k == 1:  # Pyomo's only default shortcut (``_zero_one_optimizations``): 0 × x stays
        return a
    if a.kind == _VAR:
        return Mono(k, a)  # type: ignore[arg-type]
    if a.kind == _MONO:
        return Mono(k * a.coef, a.col)  # type: ignore[attr-defined]
    return Scaled(k, a)


def _div(a: Node, k: Any) -> Any:
    if k == 1:
        return a
    if a.kind == _VAR:
        return Mono(1 / k, a)  # type: ignore[arg-type]
    if a.kind == _MONO:
        return Mono(a.coef / k, a.col)  # type: ignore[attr-defined]
    return Scaled(k, a, div=True)


def _quicksum(items: list[Any]) -> Any:
    """Pyomo's ``quicksum``: one mutable sum, terms added in place (``_iadd_mutable*``)."""
    args: list[Any] = []
    kind = 0  # 0: numbers only, _LIN, _SUM
    for b in items:
        kb = _KINDS[b.__class__]
        if not kb:
            if not b:
                continue
            if args and args[-1].__class__ in NATIVE:
                args[-1] += b
            else:
                args.append(b)
        elif kb <= _MONO:
            kind = kind or _LIN
            args.append(b)
        elif kb == _LIN:
            if kind == _SUM:
                args.append(b)
            else:
                kind = _LIN
                args.extend(b.args)
        elif kb == _SUM:
            kind = _SUM
            args.extend(b.args)
        else:
            kind = _SUM
            args.append(b)
    if not kind:
        return sum(args) if args else 0
    if len(args) == 1:
        return args[0]
    return Lin(args) if kind == _LIN else Sum(args)


def quicksum(terms: Iterable[Any]) -> Any:
    """Sum of terms: Pyomo's ``quicksum`` for Pyomo terms, its double for array terms."""
    items = list(terms)
    for x in items:
        if x.__class__ not in NATIVE:
            return _quicksum(items) if isinstance(x, Node) else pyo.quicksum(items)
    return pyo.quicksum(items)


# ---------------------------------------------------------------------------------------------
# Pyomo's linear walker, on these nodes
# ---------------------------------------------------------------------------------------------


class _Repn:
    __slots__ = ("constant", "linear", "mult")

    def __init__(self) -> None:
        self.linear: dict[int, Any] = {}
        self.constant: Any = 0
        self.mult: Any = 1


class _Walker:
    """``LinearRepnVisitor`` on :class:`Node` trees; records components as first met.

    Columns and monomials inside a flat or nested sum are taken in place (the visitor's
    ``_before_var``/``_before_monomial`` then ``append``, with the same arithmetic), which is
    most of the work at a million columns."""

    def __init__(self, n_components: int) -> None:
        self.met = [False] * n_components
        self.order: list[int] = []

    def _meet(self, comp: int) -> None:
        self.met[comp] = True
        self.order.append(comp)

    def _flat(self, args: list[Any]) -> tuple[dict[int, Any], Any]:
        """A ``LinearExpression``'s coefficients and constant (``_before_linear``)."""
        lin: dict[int, Any] = {}
        const: Any = 0
        met = self.met
        for arg in args:
            cls = arg.__class__
            if cls is Mono:
                coef, col = arg.coef, arg.col
            elif cls is Col:
                coef, col = 1, arg
            else:
                const += arg
                continue
            if not met[col.comp]:
                self._meet(col.comp)
            vid = col.id
            if vid in lin:
                lin[vid] += coef
            elif coef:
                lin[vid] = coef
        return lin, 0 + const

    def walk(self, node: Any) -> tuple[bool, Any]:
        """(linear?, repn or constant) as the visitor's (type, value) pairs."""
        k = _KINDS[node.__class__]
        if not k:
            return False, node
        if k <= _LIN:
            lin, const = self._flat(node.args if k == _LIN else [node])
            if not lin:
                return False, const
            r = _Repn()
            r.linear = lin
            r.constant = const
            return True, r
        if k == _SUM:
            r = _Repn()
            self._sum_into(r, node.args)
            return (True, r) if r.linear else (False, r.mult * r.constant)
        linear, inner = self.walk(node.arg)
        if not linear:
            if node.div:
                return False, inner / node.k
            return False, (-1 * inner if node.k == -1 else node.k * inner)
        if node.div:
            inner.mult /= node.k
        else:
            inner.mult *= node.k
        return True, inner

    def _sum_into(self, r: _Repn, args: Iterable[Any]) -> None:
        """A sum's parts added into ``r`` in order (``SumExpression``: each part's result
        appended)."""
        lin = r.linear
        met = self.met
        for arg in args:
            cls = arg.__class__
            if cls is Col or cls is Mono:
                coef, col = (1, arg) if cls is Col else (arg.coef, arg.col)
                if not met[col.comp]:
                    self._meet(col.comp)
                r.constant += 0  # the part's own constant
                if coef:
                    vid = col.id
                    if vid in lin:
                        lin[vid] += coef
                    else:
                        lin[vid] = coef
            elif cls in NATIVE:
                r.constant += arg
            else:
                _append(r, self.walk(arg))

    def difference(self, lhs: Any, rhs: Any) -> tuple[dict[int, Any], Any]:
        """``repn(lhs - rhs)`` for two expressions, without building the difference."""
        kr = _KINDS[rhs.__class__]
        if kr <= _MONO:
            kl = _KINDS[lhs.__class__]
            if kl <= _LIN:  # lhs - rhs is a flat sum, the negated term last (``_add_*``)
                neg = Mono(-1, rhs) if kr == _VAR else Mono(-rhs.coef, rhs.col)
                lin, const = self._flat([*lhs.args, neg] if kl == _LIN else [lhs, neg])
                return (lin if all(lin.values()) else {v: c for v, c in lin.items() if c}), \
                    const
            return self.repn(lhs - rhs)
        if rhs.__class__ in (Lin, Sum) and not rhs.args:
            return self.repn(lhs - rhs)  # nothing to subtract
        # lhs - rhs is Sum([lhs parts..., -1 × rhs]) (``_add_*_other``): walk it in place
        r = _Repn()
        self._sum_into(r, lhs.args if lhs.__class__ is Sum else (lhs,))
        linear, inner = self.walk(rhs)
        if linear:
            inner.mult *= -1
        else:
            inner = -1 * inner
        _append(r, (linear, inner))
        if not r.linear:
            return {}, r.mult * r.constant
        return self._finished(r)

    def _finished(self, r: _Repn) -> tuple[dict[int, Any], Any]:
        """``finalizeResult``: the pending multiplier applied, zero coefficients dropped."""
        mult = r.mult
        if mult == 1:
            lin = r.linear
            return (lin if all(lin.values()) else {v: c for v, c in lin.items() if c}), \
                r.constant
        if not mult:
            return {}, 0
        out = {}
        for v, c in r.linear.items():
            prod = mult * c
            if prod:
                out[v] = prod
        const = r.constant * mult if r.constant else r.constant
        return out, const

    def repn(self, node: Any) -> tuple[dict[int, Any], Any]:
        """The finished (coefficients, constant) of an expression, zeros dropped."""
        if node.__class__ is Lin:  # most rows: one flat sum
            lin, const = self._flat(node.args)
            return (lin if all(lin.values()) else {v: c for v, c in lin.items() if c}), const
        linear, r = self.walk(node)
        if not linear:
            return {}, r
        return self._finished(r)


def _append(r: _Repn, child: tuple[bool, Any]) -> None:
    """``LinearRepn.append``: a sum's part added in."""
    linear, other = child
    if not linear:
        r.constant += other
        return
    mult = other.mult
    lin = r.linear
    if mult == 1:
        r.constant += other.constant
        for v, c in other.linear.items():
            if v in lin:
                lin[v] += c
            else:
                lin[v] = c
        return
    if not mult:
        return
    if other.constant:
        r.constant += mult * other.constant
    for v, c in other.linear.items():
        if v in lin:
            lin[v] += mult * c
        else:
            lin[v] = mult * c


# ---------------------------------------------------------------------------------------------
# the array model
# ---------------------------------------------------------------------------------------------


class ArrayVar(dict):  # type: ignore[type-arg]
    """An indexed variable component of an :class:`ArrayModel`: {index: column}."""

    def __init__(self, name: str, comp: int, start: int, index: list[Any]) -> None:
        super().__init__(zip(index, map(Col, range(start, start + len(index)),
                                        [comp] * len(index)), strict=True))
        self.name = name
        self.comp = comp
        self.start = start
        self.index = index

    def index_set(self) -> list[Any]:
        return self.index


class ArrayModel:
    """Variables, rows and the objective, kept as flat arrays while the parts declare them."""

    def __init__(self, name: str = "") -> None:
        self.name = name
        self._vars: list[ArrayVar] = []
        self._n_cols = 0
        self._lower: list[np.ndarray] = []  # per component
        self._upper: list[np.ndarray] = []
        self._integer: list[np.ndarray] = []
        self._walker = _Walker(0)
        self._entry_col: array[int] = array("q")
        self._entry_val: array[float] = array("d")
        self._row_start: array[int] = array("q", [0])
        self._row_lower: array[float] = array("d")
        self._row_upper: array[float] = array("d")
        self._row_component: list[str] = []
        self._row_index: list[Any] = []
        self._objective: tuple[dict[int, Any], Any, int] | None = None
        self._obj_order: list[int] = []
        self._names: set[str] = set()

    def __getattr__(self, name: str) -> ArrayVar:
        # only reached for names not set: a component declared later, or none
        raise AttributeError(f"the model has no variable {name!r}")

    # -- declarations -------------------------------------------------------------------------

    def _declare(self, name: str) -> None:
        """A new component's name: unique, as Pyomo requires, and no attribute of the model."""
        if name in self._names or name in self.__dict__ or hasattr(type(self), name):
            raise ModelError(f"a component named {name!r} is already declared")
        self._names.add(name)

    def add_var(self, name: str, index: Sequence[Any], within: Any,
                bounds: Any) -> ArrayVar:
        self._declare(name)
        dom_lo, dom_hi, integer = _domain(within)
        index = _normalized(index)
        v = ArrayVar(name, len(self._vars), self._n_cols, index)
        self._vars.append(v)
        self._walker.met.append(False)
        self._n_cols += len(index)
        n = len(index)
        if callable(bounds):
            pairs = [bounds(self, *_arg_tuple(idx)) for idx in index]
        else:
            pairs = [(None, None) if bounds is None else bounds] * n
        self._lower.append(_tighter([lo for lo, _ in pairs], dom_lo, np.greater, -INF))
        self._upper.append(_tighter([hi for _, hi in pairs], dom_hi, np.less, INF))
        self._integer.append(np.full(n, integer, dtype=bool))
        object.__setattr__(self, name, v)
        return v

    def add_constraint(self, name: str, index: Sequence[Any],
                       rule: Callable[..., Any]) -> None:
        self._declare(name)
        repn, difference = self._walker.repn, self._walker.difference
        cols, vals, starts = self._entry_col, self._entry_val, self._row_start
        add_cols, add_vals, add_start = cols.extend, vals.extend, starts.append
        add_lower, add_upper = self._row_lower.append, self._row_upper.append
        kept: list[Any] = []
        keep = kept.append
        index = _normalized(index)
        tuples = set(map(type, index)) <= {tuple}
        for idx in index:
            rel = rule(self, *idx) if tuples else rule(self, *_arg_tuple(idx))
            if rel is SKIP:
                continue
            if rel.__class__ is not Relation:
                raise ModelError(f"constraint {name}[{idx}] is not a linear relation: {rel!r}")
            lhs, rhs = rel.lhs, rel.rhs
            lb: Any
            ub: Any
            # Pyomo's ConstraintData.to_bounded_expression: a number on one side is a bound
            if rhs.__class__ in NATIVE:
                lb, body, ub = (rhs if rel.equality else None), lhs, rhs
            elif lhs.__class__ in NATIVE:
                lb, body, ub = lhs, rhs, (lhs if rel.equality else None)
            else:
                lb, ub = (0 if rel.equality else None), 0
                linear, offset = difference(lhs, rhs)
                body = None
            if body is not None:
                linear, offset = repn(body)
            if not linear:
                if (lb is None or lb <= offset) and (ub is None or ub >= offset):
                    continue
                raise ModelError(f"constraint {name}[{idx}] can never hold")
            add_cols(linear)
            add_vals(linear.values())
            add_start(len(cols))
            if lb == ub:
                lo = hi = ub - offset
            else:
                lo = -INF if lb is None else lb - offset
                hi = INF if ub is None else ub - offset
            add_lower(lo)
            add_upper(hi)
            keep(idx)
        self._row_index.extend(kept)
        self._row_component.extend([name] * len(kept))

    def set_objective(self, expr: Any, sense: Any) -> None:
        walker = _Walker(len(self._vars))
        linear, constant = walker.repn(expr)
        self._objective = (linear, constant, 1 if sense == pyo.minimize else -1)
        self._obj_order = walker.order

    # -- the compiled model -------------------------------------------------------------------

    def compiled(self) -> Compiled:
        """The :class:`hwbopt.compile.Compiled` Pyomo's compiler would give for this model."""
        if self._objective is None:
            raise ModelError("the model has no objective")
        obj, offset, sense = self._objective
        met = set(self._obj_order)
        order = self._obj_order + [c for c in self._walker.order if c not in met]
        # column position of every declared variable, in Pyomo's order; -1: never met
        n_all = self._n_cols
        position = np.full(n_all, -1, dtype=np.int64)
        at = 0
        for comp in order:
            v = self._vars[comp]
            position[v.start:v.start + len(v.index)] = np.arange(at, at + len(v.index))
            at += len(v.index)
        n_rows = len(self._row_lower)
        entry_col = position[np.frombuffer(self._entry_col, dtype=np.int64)]
        data = np.frombuffer(self._entry_val, dtype=np.float64)
        indptr = np.frombuffer(self._row_start, dtype=np.int64)
        c_full = np.zeros(at)
        if obj:
            c_full[position[np.fromiter(obj.keys(), dtype=np.int64, count=len(obj))]] = \
                np.fromiter(obj.values(), dtype=np.float64, count=len(obj))
        A = sp.csc_array(sp.csr_array((data, entry_col, indptr), shape=(n_rows, at)))
        # Pyomo keeps only columns with a coefficient in some row or in the objective
        used = (np.diff(A.indptr) > 0) | (c_full != 0)
        keep = np.flatnonzero(used)
        A = sp.csc_array(A[:, keep]) if len(keep) != at else A
        A.indices = A.indices.astype(np.int32)
        A.indptr = A.indptr.astype(np.int32)
        by_position = np.empty(at, dtype=np.int64)
        placed = position >= 0
        by_position[position[placed]] = np.flatnonzero(placed)
        declared = by_position[keep]  # declaration id of each kept column
        comp_of = np.searchsorted([v.start for v in self._vars], declared, side="right") - 1
        lower = _joined(self._lower, float)[declared]
        upper = _joined(self._upper, float)[declared]
        integer = _joined(self._integer, bool)[declared]
        names = [v.name for v in self._vars]
        col_component = [names[k] for k in comp_of.tolist()]
        col_index = [self._vars[k].index[j - self._vars[k].start]
                     for k, j in zip(comp_of.tolist(), declared.tolist(), strict=True)]
        return Compiled(
            sense=sense, c=c_full[keep], offset=float(offset), A=A,
            row_lower=np.array(self._row_lower, dtype=float),
            row_upper=np.array(self._row_upper, dtype=float),
            col_lower=lower, col_upper=upper, integer=integer,
            col_component=col_component, col_index=col_index,
            row_component=self._row_component, row_index=self._row_index,
        )


def _tighter(values: list[Any], domain: float | None, tighter: Any, unbounded: float
             ) -> np.ndarray:
    """Column bounds as Pyomo's ``VarData.lb``/``ub`` give them: the tighter of each bound and
    the domain's (Python's ``max``/``min``: the bound itself unless the domain's is tighter)."""
    out = np.array([unbounded if x is None else x for x in values], dtype=float)
    if domain is None:
        return out
    dom = float(domain)
    given = np.array([x is not None for x in values], dtype=bool)
    return np.where(given & ~tighter(dom, out), out, dom)


def _joined(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


def _normalized(index: Sequence[Any]) -> list[Any]:
    """Indices as Pyomo keeps them: nested tuples flattened, a 1-tuple its one element."""
    index = list(index)
    # (type checks over every element run in C: a million-row index costs milliseconds)
    if (not index or (set(map(type, index)) == {tuple} and min(map(len, index)) > 1
                      and tuple not in set(map(type, chain.from_iterable(index))))):
        return index  # the model's indices: nothing to do
    return [_flat_index(idx) for idx in index]


def _flat_index(idx: Any) -> Any:
    if not isinstance(idx, tuple):
        return idx
    flat: list[Any] = []
    for e in idx:
        if isinstance(e, tuple):
            flat.extend(_flat_index(e) if len(e) != 1 else e)
        else:
            flat.append(e)
    return flat[0] if len(flat) == 1 else tuple(flat)


def _arg_tuple(idx: Any) -> tuple[Any, ...]:
    """An index as the arguments of a rule: Pyomo unpacks a tuple, passes anything else alone."""
    return idx if isinstance(idx, tuple) else (idx,)


# ---------------------------------------------------------------------------------------------
# what the part modules call
# ---------------------------------------------------------------------------------------------

Model = Any  # a pyo.ConcreteModel or an ArrayModel


def var(m: Model, name: str, index: Sequence[Any], *, within: Any = pyo.Reals,
        bounds: Any = None) -> Any:
    """Declare the variable component ``name`` over ``index``."""
    if isinstance(m, ArrayModel):
        return m.add_var(name, index, within, bounds)
    setattr(m, name, pyo.Var(index, within=within, bounds=bounds))
    return getattr(m, name)


def constraint(m: Model, name: str, index: Sequence[Any], rule: Callable[..., Any]) -> None:
    """Declare the constraint component ``name``: ``rule(m, *idx)`` for each index."""
    if isinstance(m, ArrayModel):
        m.add_constraint(name, index, rule)
    else:
        setattr(m, name, pyo.Constraint(index, rule=rule))


def objective(m: Model, expr: Any, sense: Any) -> None:
    if isinstance(m, ArrayModel):
        m.set_objective(expr, sense)
    else:
        m.objective = pyo.Objective(expr=expr, sense=sense)
