"""Compile a contract: lint it, rewrite its AST to charge gas, compile the result.

The rewrite (applied only to source the linter accepted):

- before every statement: ``__g_stmt()``; at the top of every ``while`` body:
  ``__g_loop()``; every ``for`` and comprehension iterates ``__g_iter(it)``, which charges
  per item;
- ``f(a)`` becomes ``__g_call(f, a)`` (charges the call, counts the depth);
  ``x.m(a)`` becomes ``__g_method(x, "m", a)`` (only methods in the runtime's table);
  ``x.a`` becomes ``__g_attr(x, "a")``; ``x[k]`` (read) becomes ``__g_getitem(x, k)``;
- ``x[k] = v`` becomes ``__g_setitem(x, k, v)`` and ``del x[k]`` ``__g_delitem(x, k)``;
  every dict display and comprehension key goes through ``__g_key(k)`` (checked, and
  charged by its deep size, before it is hashed);
- ``a + b`` becomes ``__g_op_Add(a, b)`` (and so on for every operator), ``a += b``
  becomes ``__g_iop_Add``; ``-a``, ``+a``, ``~a`` go through helpers; ``a < b`` becomes
  ``__g_cmp_Lt(a, b)`` (and so on), a chain ``a < b < c`` becomes
  ``__g_chain(a, ("Lt", lambda: b), ("Lt", lambda: c))`` (later operands evaluated only
  while the chain holds, as in Python);
- top-level ``x = Var(...)`` / ``Map(...)`` become declarations keyed by ``"x"``;
- annotations are dropped (they would be evaluated at definition time).
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import CodeType
from typing import Any

from ccoin.vm import lint
from ccoin.vm.api import ContractApi, ContractError, decode_value, encode_result
from ccoin.vm.failures import CONTRACT_FILENAME, describe
from ccoin.vm.gas import Meter, VmAbort
from ccoin.vm.runtime import Frames, build_namespace
from ccoin.vm.values import MAX_INT_BITS, checked_decimal

MAX_ARGUMENT_DEPTH = 16


class ContractRejected(Exception):
    """The source is not a valid contract; `violations` lists every reason."""

    def __init__(self, violations: Sequence[lint.Violation]) -> None:
        self.violations = tuple(violations)
        shown = "; ".join(str(v) for v in self.violations[:5])
        more = len(self.violations) - 5
        super().__init__(shown + (f"; and {more} more" if more > 0 else ""))


class UnknownFunction(ContractError):
    """The function called is not an `@export` of the contract."""


@dataclass(frozen=True)
class CompiledContract:
    code: CodeType
    exports: tuple[str, ...]
    filename: str

    def instantiate(
        self, meter: Meter, api: ContractApi, frames: Frames | None = None
    ) -> ContractInstance:
        """Run the module body (charged to `meter`) in a fresh namespace. `frames`: the
        call-depth counter to share with the contracts that called this one."""
        namespace = build_namespace(meter, api, frames)
        exec(self.code, namespace)
        return ContractInstance(namespace)


class ContractInstance:
    def __init__(self, namespace: dict[str, Any]) -> None:
        self._namespace = namespace

    def call(self, function: str, args: Sequence[Any] = ()) -> Any:
        exports = self._namespace["__g_exports"]
        if function not in exports:
            raise UnknownFunction(f"no exported function {function[:64]!r}")
        for arg in args:
            check_argument(arg)
        return self._namespace["__g_call"](exports[function], *args)


@dataclass(frozen=True)
class CallOutcome:
    ok: bool
    value: Any
    error: str | None
    gas_used: int


def execute(
    contract: CompiledContract,
    function: str,
    args: Sequence[Any],
    api: ContractApi,
    gas_limit: int,
) -> CallOutcome:
    """Instantiate and call in this process; every contract failure becomes an outcome.

    MemoryError is not the contract's result (it depends on the machine): it propagates.
    """
    meter = Meter(gas_limit)
    try:
        value = contract.instantiate(meter, api).call(function, args)
        value = decode_value(encode_result(meter, value))  # as a receipt holds it
    except (MemoryError, RecursionError):
        raise
    except (Exception, VmAbort) as exc:
        return CallOutcome(False, None, describe(exc), meter.used)
    return CallOutcome(True, value, None, meter.used)


def check_argument(value: Any, depth: int = 0) -> None:
    """Arguments from a transaction: the contract's own value types only (no floats)."""
    if depth > MAX_ARGUMENT_DEPTH:
        raise ContractError("argument nested too deeply")
    if type(value) is int and value.bit_length() > MAX_INT_BITS:
        raise ContractError(f"argument int of more than {MAX_INT_BITS} bits")
    if type(value) is Decimal:
        try:
            checked_decimal(value)
        except ValueError:
            raise ContractError("argument Decimal outside the pinned context") from None
        return
    if value is None or type(value) in (bool, int, str, bytes):
        return
    if type(value) in (list, tuple):
        for item in value:
            check_argument(item, depth + 1)
        return
    if type(value) is dict:
        for key, item in value.items():
            check_argument(key, depth + 1)
            check_argument(item, depth + 1)
        return
    raise ContractError(f"argument of type {type(value).__name__} is not allowed")


def compile_contract(source: str, filename: str = CONTRACT_FILENAME) -> CompiledContract:
    violations = lint.check(source)
    if violations:
        raise ContractRejected(violations)
    tree = ast.parse(source, filename=filename, mode="exec")
    exports = tuple(
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and any(isinstance(d, ast.Name) and d.id == "export" for d in node.decorator_list)
    )
    tree = _Instrumenter().visit(tree)
    ast.fix_missing_locations(tree)
    code = compile(tree, filename, "exec", dont_inherit=True, optimize=0)
    return CompiledContract(code=code, exports=exports, filename=filename)


def _helper(name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=list(args), keywords=[])


def _charge_statement() -> ast.stmt:
    return ast.Expr(value=_helper("__g_stmt"))


class _Instrumenter(ast.NodeTransformer):
    def __init__(self) -> None:
        self.temporaries = 0

    def block(self, statements: list[ast.stmt]) -> list[ast.stmt]:
        result: list[ast.stmt] = []
        for statement in statements:
            visited = self.visit(statement)
            new = visited if isinstance(visited, list) else [visited]
            result.append(ast.copy_location(_charge_statement(), statement))
            result.extend(new)
        return result

    def visit_Module(self, node: ast.Module) -> ast.Module:
        for statement in node.body:
            if isinstance(statement, ast.Assign):
                self._declaration(statement)
        node.body = self.block(node.body)
        return node

    def _declaration(self, node: ast.Assign) -> None:
        call = node.value
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
            return
        target = node.targets[0]
        assert isinstance(target, ast.Name)
        helper = "__g_declare_var" if call.func.id == "Var" else "__g_declare_map"
        key = ast.Constant(value=target.id)
        node.value = ast.copy_location(_helper(helper, key, *call.args), call)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        node.returns = None
        for arg in node.args.args:
            arg.annotation = None
        node.args.defaults = [self.visit(d) for d in node.args.defaults]
        node.body = self.block(node.body)
        return node

    def visit_While(self, node: ast.While) -> ast.While:
        node.test = self.visit(node.test)
        loop = ast.copy_location(ast.Expr(value=_helper("__g_loop")), node)
        node.body = [loop, *self.block(node.body)]
        node.orelse = self.block(node.orelse)
        return node

    def visit_For(self, node: ast.For) -> ast.For:
        node.target = self.visit(node.target)
        node.iter = _helper("__g_iter", self.visit(node.iter))
        node.body = self.block(node.body)
        node.orelse = self.block(node.orelse)
        return node

    def visit_If(self, node: ast.If) -> ast.If:
        node.test = self.visit(node.test)
        node.body = self.block(node.body)
        node.orelse = self.block(node.orelse)
        return node

    def visit_Try(self, node: ast.Try) -> ast.Try:
        node.body = self.block(node.body)
        for handler in node.handlers:
            caught = ast.copy_location(ast.Expr(value=_helper("__g_caught")), handler)
            handler.body = [caught, *self.block(handler.body)]
        node.orelse = self.block(node.orelse)
        return node

    def visit_comprehension(self, node: ast.comprehension) -> ast.comprehension:
        node.target = self.visit(node.target)
        node.iter = _helper("__g_iter", self.visit(node.iter))
        node.ifs = [self.visit(test) for test in node.ifs]
        return node

    def visit_Call(self, node: ast.Call) -> ast.Call:
        args = [self.visit(a) for a in node.args]
        keywords = [self.visit(k) for k in node.keywords]
        if isinstance(node.func, ast.Attribute):
            receiver = self.visit(node.func.value)
            name = ast.Constant(value=node.func.attr)
            call = _helper("__g_method", receiver, name, *args)
        else:
            call = _helper("__g_call", self.visit(node.func), *args)
        call.keywords = keywords
        return ast.copy_location(call, node)

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        value = self.visit(node.value)
        call = _helper("__g_attr", value, ast.Constant(value=node.attr))
        return ast.copy_location(call, node)

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        node.value = self.visit(node.value)
        if isinstance(node.slice, ast.Slice):
            bounds = (node.slice.lower, node.slice.upper, node.slice.step)
            parts = [ast.Constant(value=None) if b is None else self.visit(b) for b in bounds]
            key: ast.expr = _helper("__g_slice", *parts)
        else:
            key = self.visit(node.slice)
        # Stores and deletes never get here: visit_Assign, visit_AugAssign and visit_Delete
        # rewrite them, and the linter refuses items as loop or unpacking targets.
        assert isinstance(node.ctx, ast.Load)
        return ast.copy_location(_helper("__g_getitem", node.value, key), node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        name = f"__g_op_{type(node.op).__name__}"
        call = _helper(name, self.visit(node.left), self.visit(node.right))
        return ast.copy_location(call, node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        operand = self.visit(node.operand)
        helpers = {ast.USub: "__g_neg", ast.UAdd: "__g_pos", ast.Invert: "__g_inv"}
        name = helpers.get(type(node.op))
        if name is None:  # `not` costs nothing beyond its statement
            node.operand = operand
            return node
        return ast.copy_location(_helper(name, operand), node)

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        left = self.visit(node.left)
        names = [type(op).__name__ for op in node.ops]
        operands = [self.visit(c) for c in node.comparators]
        if len(names) == 1:
            call = _helper(f"__g_cmp_{names[0]}", left, operands[0])
        else:
            links = [
                ast.Tuple(elts=[ast.Constant(value=name), _thunk(operand)], ctx=ast.Load())
                for name, operand in zip(names, operands, strict=True)
            ]
            call = _helper("__g_chain", left, *links)
        return ast.copy_location(call, node)

    def visit_Dict(self, node: ast.Dict) -> ast.AST:
        node.keys = [None if k is None else _helper("__g_key", self.visit(k)) for k in node.keys]
        node.values = [self.visit(v) for v in node.values]
        return node

    def visit_DictComp(self, node: ast.DictComp) -> ast.AST:
        node.generators = [self.visit(g) for g in node.generators]
        node.key = _helper("__g_key", self.visit(node.key))
        node.value = self.visit(node.value)
        return node

    def visit_Assign(self, node: ast.Assign) -> ast.AST | list[ast.stmt]:
        value = self.visit(node.value)
        if not any(isinstance(t, ast.Subscript) for t in node.targets):
            node.targets = [self.visit(t) for t in node.targets]
            node.value = value
            return node
        # Python evaluates the value, then assigns each target left to right.
        self.temporaries += 1
        temporary = f"__g_t{self.temporaries}_value"
        statements: list[ast.stmt] = [
            ast.Assign(targets=[ast.Name(id=temporary, ctx=ast.Store())], value=value)
        ]
        for target in node.targets:
            if isinstance(target, ast.Subscript):
                statements.append(self._store(target, _load(temporary)))
            else:
                statements.append(ast.Assign(targets=[self.visit(target)], value=_load(temporary)))
        return [ast.copy_location(s, node) for s in statements]

    def _store(self, target: ast.Subscript, value: ast.expr) -> ast.stmt:
        obj = self.visit(target.value)
        return ast.Expr(value=_helper("__g_setitem", obj, self._key(target), value))

    def _key(self, target: ast.Subscript) -> ast.expr:
        assert not isinstance(target.slice, ast.Slice)  # the linter refuses slice stores
        key: ast.expr = self.visit(target.slice)
        return key

    def visit_Delete(self, node: ast.Delete) -> list[ast.stmt]:
        statements: list[ast.stmt] = []
        for target in node.targets:
            assert isinstance(target, ast.Subscript)  # the linter refuses `del name`
            call = _helper("__g_delitem", self.visit(target.value), self._key(target))
            statements.append(ast.copy_location(ast.Expr(value=call), node))
        return statements

    def visit_AugAssign(self, node: ast.AugAssign) -> list[ast.stmt]:
        name = f"__g_iop_{type(node.op).__name__}"
        value = self.visit(node.value)
        target = node.target
        if isinstance(target, ast.Name):
            load = ast.Name(id=target.id, ctx=ast.Load())
            store = ast.Name(id=target.id, ctx=ast.Store())
            assign = ast.Assign(targets=[store], value=_helper(name, load, value))
            return [ast.copy_location(assign, node)]
        assert isinstance(target, ast.Subscript)
        # Evaluate the container and the key once, as Python does.
        self.temporaries += 1
        obj, key = f"__g_t{self.temporaries}_obj", f"__g_t{self.temporaries}_key"
        statements: list[ast.stmt] = [
            ast.Assign(targets=[ast.Name(id=obj, ctx=ast.Store())], value=self.visit(target.value)),
            ast.Assign(targets=[ast.Name(id=key, ctx=ast.Store())], value=self._key(target)),
            ast.Expr(
                value=_helper(
                    "__g_setitem",
                    _load(obj),
                    _load(key),
                    _helper(name, _helper("__g_getitem", _load(obj), _load(key)), value),
                )
            ),
        ]
        return [ast.copy_location(s, node) for s in statements]


def _load(name: str) -> ast.Name:
    return ast.Name(id=name, ctx=ast.Load())


def _thunk(expression: ast.expr) -> ast.Lambda:
    """`lambda: expression` (the instrumentation's own; contract code cannot write one)."""
    arguments = ast.arguments(
        posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
        defaults=[],
    )  # fmt: skip
    return ast.Lambda(args=arguments, body=expression)
