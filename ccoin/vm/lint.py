"""The contract language: a whitelist of Python syntax, checked statically at deploy.

`check(source)` returns every violation (line, column, rule id, message), not just the
first, so an author fixes a contract in one round. Rule ids are stable; they are listed in
`docs/spec/vm.md`. What is allowed is what `ccoin.vm.instrument` knows how to meter; the
two modules change together.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

MAX_INT_LITERAL_BITS = 2048  # ccoin.vm.values.MAX_INT_BITS (this module imports nothing)
MAX_SOURCE_BYTES = 64 * 1024
MAX_NODES = 20_000
# The instrumenting transformer and CPython's compiler both recurse over the tree; a bound
# well under the interpreter's recursion limit keeps them from failing on a deep chain.
MAX_DEPTH = 60

BANNED_NAMES = frozenset(
    [
        "eval",
        "exec",
        "open",
        "getattr",
        "setattr",
        "delattr",
        "hasattr",
        "type",
        "globals",
        "locals",
        "vars",
        "compile",
        "__import__",
        "input",
        "print",
        "dir",
        "id",
        "hash",
        "memoryview",
        "bytearray",
        "object",
        "super",
        "breakpoint",
        "help",
        "exit",
        "quit",
        "format",
        "classmethod",
        "staticmethod",
        "property",
        "iter",
        "next",
        "callable",
    ]
)
BANNED_ATTRIBUTES = frozenset({"format", "format_map"})
# Exceptions a contract may catch: none is a base of `VmAbort`, RecursionError or
# MemoryError, so out of gas and resource exhaustion always end the call.
CATCHABLE = frozenset(
    {"ContractError", "ValueError", "KeyError", "IndexError", "ZeroDivisionError", "TypeError"}
)
DECLARATIONS = frozenset({"Var", "Map"})
# Every name the runtime puts in a contract's globals (a test keeps this equal to
# `ccoin.vm.runtime.build_namespace`). A top-level function or constant with one of these
# names would silently replace it for the whole contract.
RUNTIME_NAMES = frozenset(
    {
        "ContractError", "Decimal", "IndexError", "KeyError", "TypeError", "ValueError",
        "ZeroDivisionError", "abs", "all", "any", "bool", "call_contract", "coins", "ctx",
        "dict", "emit", "enumerate", "export", "int", "isinstance", "len", "list", "max",
        "min", "range", "require", "reversed", "sorted", "str", "sum", "tuple", "zip",
    }
    | DECLARATIONS
)  # fmt: skip
DECORATORS = frozenset({"export"})

ALLOWED_NODES: frozenset[type[ast.AST]] = frozenset(
    {
        ast.Module, ast.FunctionDef, ast.arguments, ast.arg, ast.Return, ast.Assign,
        ast.AugAssign, ast.For, ast.While, ast.If, ast.Break, ast.Continue, ast.Pass,
        ast.Expr, ast.Raise, ast.Try, ast.ExceptHandler, ast.Delete,
        ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp, ast.Call, ast.keyword,
        ast.Constant, ast.Attribute, ast.Subscript, ast.Slice, ast.Name, ast.List,
        ast.Tuple, ast.Dict, ast.ListComp, ast.DictComp, ast.comprehension,
        ast.Load, ast.Store, ast.Del,
        ast.And, ast.Or, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod,
        ast.Pow, ast.LShift, ast.RShift, ast.BitOr, ast.BitXor, ast.BitAnd,
        ast.Invert, ast.Not, ast.UAdd, ast.USub,
        ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.In,
        ast.NotIn,
    }
)  # fmt: skip

# Banned node types with a specific rule id (anything else unlisted is `node-not-allowed`).
BANNED_NODE_RULES: dict[type[ast.AST], tuple[str, str]] = {
    ast.Import: ("no-import", "imports are not allowed"),
    ast.ImportFrom: ("no-import", "imports are not allowed"),
    ast.ClassDef: ("no-class", "classes are not allowed"),
    ast.Lambda: ("no-lambda", "lambdas are not allowed; define a function"),
    ast.GeneratorExp: ("no-generator", "generator expressions are not allowed; use a list"),
    ast.Yield: ("no-yield", "yield is not allowed"),
    ast.YieldFrom: ("no-yield", "yield is not allowed"),
    ast.AsyncFunctionDef: ("no-async", "async is not allowed"),
    ast.AsyncFor: ("no-async", "async is not allowed"),
    ast.AsyncWith: ("no-async", "async is not allowed"),
    ast.Await: ("no-async", "await is not allowed"),
    ast.Global: ("no-global", "global is not allowed; use Var"),
    ast.Nonlocal: ("no-global", "nonlocal is not allowed"),
    ast.Set: ("no-set", "sets are not allowed (iteration order depends on hashing)"),
    ast.SetComp: ("no-set", "sets are not allowed (iteration order depends on hashing)"),
    ast.JoinedStr: ("no-fstring", "f-strings are not allowed; use str() and +"),
    ast.With: ("no-with", "with is not allowed"),
    ast.Assert: ("no-assert", "assert is not allowed (python -O strips it); use require()"),
    ast.Starred: ("no-star-args", "star arguments and unpacking are not allowed"),
    ast.NamedExpr: ("no-walrus", "assignment expressions are not allowed"),
    ast.Match: ("no-match", "match is not allowed"),
    ast.TryStar: ("no-except-star", "except* is not allowed"),
    ast.AnnAssign: ("no-annotated-assign", "annotated assignments are not allowed"),
    ast.MatMult: ("node-not-allowed", "the @ operator is not allowed"),
}

# Parts of a banned construct: the construct itself is the violation.
_REPORTED_BY_PARENT: frozenset[type[ast.AST]] = frozenset(
    {ast.alias, ast.withitem, ast.match_case, ast.MatchValue, ast.MatchAs, ast.MatchOr}
)


@dataclass(frozen=True, slots=True)
class Violation:
    line: int
    col: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.line}:{self.col}: {self.rule}: {self.message}"


def check(source: str) -> list[Violation]:
    """Every violation in `source`, sorted by position; empty when it is a valid contract."""
    if len(source.encode("utf-8", "surrogatepass")) > MAX_SOURCE_BYTES:
        return [Violation(1, 0, "source-too-large", f"source over {MAX_SOURCE_BYTES} bytes")]
    try:
        tree = ast.parse(source, mode="exec")
    except SyntaxError as exc:
        return [Violation(exc.lineno or 1, (exc.offset or 1) - 1, "syntax-error", exc.msg)]
    except (RecursionError, MemoryError, ValueError) as exc:
        return [Violation(1, 0, "syntax-error", f"cannot parse: {type(exc).__name__}")]
    return sorted(_Checker(tree).run(), key=lambda v: (v.line, v.col, v.rule))


class _Checker:
    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.found: list[Violation] = []
        self.parents: dict[ast.AST, ast.AST] = {}

    def run(self) -> list[Violation]:
        nodes = list(ast.walk(self.tree))
        if len(nodes) > MAX_NODES:
            return [Violation(1, 0, "too-many-nodes", f"more than {MAX_NODES} syntax nodes")]
        for parent in nodes:
            for child in ast.iter_child_nodes(parent):
                self.parents[child] = parent
        deep = self._too_deep()
        if deep is not None:
            self._add(deep, "too-deep", f"nested more than {MAX_DEPTH} levels")
            return self.found
        self._check_top_level()
        for node in nodes:
            self._check_node(node)
        return self.found

    def _too_deep(self) -> ast.AST | None:
        depth: dict[ast.AST, int] = {self.tree: 0}
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                depth[child] = depth[node] + 1
                if depth[child] > MAX_DEPTH:
                    return child
        return None

    def _add(self, node: ast.AST, rule: str, message: str) -> None:
        line = getattr(node, "lineno", None)
        col = getattr(node, "col_offset", None)
        if line is None:
            # Operator and context nodes have no position; report their parent's.
            parent = self.parents.get(node)
            line = getattr(parent, "lineno", 1)
            col = getattr(parent, "col_offset", 0)
        self.found.append(Violation(int(line or 1), int(col or 0), rule, message))

    def _check_top_level(self) -> None:
        for index, stmt in enumerate(self.tree.body):
            self._check_shadowing(stmt)
            if isinstance(stmt, ast.FunctionDef):
                continue
            if index == 0 and _is_docstring(stmt):
                continue
            if isinstance(stmt, ast.Assign) and _is_top_level_value(stmt):
                continue
            if type(stmt) in BANNED_NODE_RULES:
                continue  # already reported under its own rule
            self._add(
                stmt,
                "top-level-statement",
                "the top level may hold only functions, constants and Var/Map declarations",
            )

    def _check_shadowing(self, stmt: ast.stmt) -> None:
        names: list[str] = []
        if isinstance(stmt, ast.FunctionDef):
            names.append(stmt.name)
        elif isinstance(stmt, ast.Assign):
            names.extend(t.id for t in stmt.targets if isinstance(t, ast.Name))
        for name in names:
            if name in RUNTIME_NAMES:
                self._add(
                    stmt,
                    "shadows-runtime",
                    f"{name!r} is provided by the runtime; a top-level {name!r} would replace it",
                )

    def _check_node(self, node: ast.AST) -> None:
        kind = type(node)
        if kind in BANNED_NODE_RULES:
            rule, message = BANNED_NODE_RULES[kind]
            self._add(node, rule, message)
        elif kind not in ALLOWED_NODES and kind not in _REPORTED_BY_PARENT:
            self._add(node, "node-not-allowed", f"{kind.__name__} is not allowed")
        check = _NODE_CHECKS.get(kind)
        if check is not None:
            check(self, node)

    def _name(self, node: ast.AST, name: str, what: str) -> None:
        if name.startswith("_") or name.endswith("_"):
            self._add(node, "no-underscore-name", f"{what} {name!r} starts or ends with _")
        elif name in BANNED_NAMES:
            self._add(node, "banned-name", f"{name!r} is not available to contracts")

    def check_name(self, node: ast.AST) -> None:
        assert isinstance(node, ast.Name)
        self._name(node, node.id, "name")
        if node.id in DECLARATIONS and not self._is_declaration_call(node):
            self._add(node, "bad-declaration", f"{node.id} is only used as NAME = {node.id}(...)")
        if isinstance(node.ctx, ast.Del):
            self._add(node, "no-del-name", "del of a name is not allowed; del of an item is")

    def _is_declaration_call(self, node: ast.Name) -> bool:
        call = self.parents.get(node)
        if not (isinstance(call, ast.Call) and call.func is node):
            return False
        assign = self.parents.get(call)
        return (
            isinstance(assign, ast.Assign)
            and assign.value is call
            and self.parents.get(assign) is self.tree
        )

    def check_attribute(self, node: ast.AST) -> None:
        assert isinstance(node, ast.Attribute)
        self._name(node, node.attr, "attribute")
        if node.attr in BANNED_ATTRIBUTES:
            self._add(node, "no-format", f".{node.attr} is not allowed (it can format floats)")
        if not isinstance(node.ctx, ast.Load):
            self._add(node, "no-attribute-store", "attributes cannot be assigned or deleted")

    def check_constant(self, node: ast.AST) -> None:
        assert isinstance(node, ast.Constant)
        if isinstance(node.value, float | complex):
            self._add(node, "no-float", "float and complex literals are not allowed; use Decimal")
        elif type(node.value) is int and node.value.bit_length() > MAX_INT_LITERAL_BITS:
            self._add(node, "int-too-large", f"ints have at most {MAX_INT_LITERAL_BITS} bits")
        elif node.value is Ellipsis:
            self._add(node, "node-not-allowed", "... is not allowed")

    def check_function(self, node: ast.AST) -> None:
        assert isinstance(node, ast.FunctionDef)
        self._name(node, node.name, "function")
        if self.parents.get(node) is not self.tree:
            self._add(node, "nested-function", "functions are defined at the top level only")
        for decorator in node.decorator_list:
            if not (isinstance(decorator, ast.Name) and decorator.id in DECORATORS):
                self._add(decorator, "bad-decorator", "the only decorator is @export")
        args = node.args
        if args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs:
            self._add(node, "no-star-args", "only plain positional parameters are allowed")

    def check_arg(self, node: ast.AST) -> None:
        assert isinstance(node, ast.arg)
        self._name(node, node.arg, "parameter")

    def check_keyword(self, node: ast.AST) -> None:
        assert isinstance(node, ast.keyword)
        if node.arg is None:
            self._add(node, "no-star-args", "**kwargs in calls is not allowed")
        else:
            self._name(node, node.arg, "keyword")

    def check_handler(self, node: ast.AST) -> None:
        assert isinstance(node, ast.ExceptHandler)
        if node.type is None:
            self._add(node, "no-bare-except", "bare except is not allowed; name the error")
            return
        types = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
        for kind in types:
            if not (isinstance(kind, ast.Name) and kind.id in CATCHABLE):
                names = ", ".join(sorted(CATCHABLE))
                self._add(kind, "broad-except", f"a contract may only catch: {names}")
        if node.name is not None:
            self._name(node, node.name, "name")

    def check_try(self, node: ast.AST) -> None:
        assert isinstance(node, ast.Try)
        if node.finalbody:
            # A finally block would run while out-of-gas unwinds the call.
            self._add(node, "no-finally", "finally is not allowed")

    def check_dict(self, node: ast.AST) -> None:
        assert isinstance(node, ast.Dict)
        if any(key is None for key in node.keys):
            self._add(node, "no-star-args", "**unpacking in a dict is not allowed")

    def check_target(self, node: ast.AST) -> None:
        """Loop targets are names (or tuples of names); an unpacking assigns names only."""
        targets: list[ast.expr] = []
        if isinstance(node, ast.For | ast.comprehension):
            targets = [node.target]
        elif isinstance(node, ast.Assign):
            targets = [t for t in node.targets if isinstance(t, ast.Tuple | ast.List)]
        for target in targets:
            for part in ast.walk(target):
                if isinstance(part, ast.Subscript | ast.Attribute):
                    self._add(
                        part,
                        "bad-target",
                        "loop targets and unpackings assign names only; assign items one by one",
                    )

    def check_subscript(self, node: ast.AST) -> None:
        assert isinstance(node, ast.Subscript)
        if isinstance(node.slice, ast.Slice) and not isinstance(node.ctx, ast.Load):
            self._add(node, "no-slice-store", "slices can be read, not assigned or deleted")


_NODE_CHECKS = {
    ast.Name: _Checker.check_name,
    ast.Attribute: _Checker.check_attribute,
    ast.Constant: _Checker.check_constant,
    ast.FunctionDef: _Checker.check_function,
    ast.arg: _Checker.check_arg,
    ast.keyword: _Checker.check_keyword,
    ast.ExceptHandler: _Checker.check_handler,
    ast.Try: _Checker.check_try,
    ast.Subscript: _Checker.check_subscript,
    ast.Dict: _Checker.check_dict,
    ast.For: _Checker.check_target,
    ast.comprehension: _Checker.check_target,
    ast.Assign: _Checker.check_target,
}


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _is_top_level_value(stmt: ast.Assign) -> bool:
    if len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Name):
        return False
    value = stmt.value
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
        return (
            value.func.id in DECLARATIONS
            and not value.keywords
            and len(value.args) <= 1
            and all(_is_constant(a) for a in value.args)
        )
    return _is_constant(value)


def _is_constant(node: ast.expr) -> bool:
    """int, str, bytes, bool, None, a negative number, and tuples/lists/dicts of those."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, int | str | bytes | bool | type(None))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return isinstance(node.operand, ast.Constant) and type(node.operand.value) is int
    if isinstance(node, ast.Tuple | ast.List):
        return all(_is_constant(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and _is_constant(k) for k in node.keys) and all(
            _is_constant(v) for v in node.values
        )
    return False
