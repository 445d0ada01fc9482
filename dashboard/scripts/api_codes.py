"""Every code the API can send, read from Herald's source, for the dashboard's plain words.

    python dashboard/scripts/api_codes.py          writes dashboard/src/lib/api-codes.json
    python dashboard/scripts/api_codes.py --check  fails if that file is not what the source says

Four lists, each sorted:

- `problem`: a problem's `type` (its last segment with `-` read as `_`): the `code` of every
  HeraldError subclass and every `code=` given to `problem(...)`;
- `field`: the `code` of a field error in a 422: Herald's own (`FieldError(..., code)`,
  `PydanticCustomError(code, ...)`) and pydantic's, for the constraints the request models use;
- `error_kind`: a target's `error_kind` (the `ErrorKind` enum);
- `event`: the `type` of an event on the SNS topic (`publish_event(...)` and its relatives).

The source is read, not imported, and a code is followed to where it is made: through a
variable, a parameter (to every call of its function), a helper's return value, a list built
with `append`, a dict's values, a conditional. A code the scanner cannot follow to a literal is
an error, unless OPAQUE names the place and why it adds no code; so a new code can neither be
missed nor slip by without words (the dashboard's unit test wants words for each code here).
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers" / "herald" / "herald"
OUTPUT = ROOT / "dashboard" / "src" / "lib" / "api-codes.json"
# The sandbox stands in for the platforms: its codes are theirs, not Herald's API's.
SKIP = ("local/sandbox/",)

# Where a code comes from somewhere no literal says: why, and the list whose codes it can be
# (None: it adds none). A new such place fails the scan until it is named here.
OPAQUE: dict[str, tuple[str, str | None]] = {
    "api/problems.py:_validation:str(err.get('type', 'invalid'))": (
        "pydantic's own error types: listed from the constraints the models use",
        None,
    ),
    "api/problems.py:from_herald_error:exc.code": ("a HeraldError's class code", "problem"),
    "api/routes/oauth.py:callback:exc.code": ("the OAuth state error's class code", "problem"),
    "api/routes/oauth.py:confirm:exc.code": ("the confirmation error's class code", "problem"),
    "api/routes/publishing_limits.py:publishing_limit:exc.kind.value": (
        "Threads' refusal of the limit read, by its ErrorKind",
        "error_kind",
    ),
    "target_rules.py:_per_target:problem.code": (
        "a content rule's own code (content_rules.py), named after the variant it came from",
        None,
    ),
    "publishing.py:_announce_pending:owed.event_type": (
        "read back from the post's pending_event, which is written from event_type_for",
        None,
    ),
}

# A sink: a call whose argument is a code. (callee name, category, position, keyword, default)
SINKS: tuple[tuple[str, str, int | None, str, str | None], ...] = (
    ("FieldError", "field", 2, "code", "invalid"),
    ("PydanticCustomError", "field", 0, "error_type", None),
    ("problem", "problem", None, "code", None),
    ("publish_event", "event", 1, "event_type", None),
    ("build_event", "event", 0, "event_type", None),
)
# The worker's outbox takes (owner, event_type, payload): `self.outbox.add(...)`.
OUTBOX = ("outbox", "add", 1, "event_type")

# pydantic's error types for the constraints and types the request models use
# (https://docs.pydantic.dev/latest/errors/validation_errors/). Always possible for a body:
PYDANTIC_ALWAYS = (
    "missing",
    "model_attributes_type",
    "string_type",
    "list_type",
    "dict_type",
    "int_parsing",
    "int_type",
    "bool_parsing",
    "value_error",
    "json_invalid",
)
PYDANTIC_BY_KEYWORD = {
    "max_length": ("string_too_long", "too_long"),
    "min_length": ("string_too_short", "too_short"),
    "ge": ("greater_than_equal",),
    "gt": ("greater_than",),
    "le": ("less_than_equal",),
    "lt": ("less_than",),
    "pattern": ("string_pattern_mismatch",),
}


@dataclass(frozen=True)
class Unknown:
    where: str
    why: str


@dataclass(frozen=True)
class Tup:
    items: tuple[frozenset[object], ...]


@dataclass(frozen=True)
class Coll:
    """A list, set or dict (its values): what iterating or indexing it gives."""

    items: frozenset[object]


@dataclass
class Module:
    path: str
    tree: ast.Module
    parents: dict[ast.AST, ast.AST] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node

    def scope_of(self, node: ast.AST) -> ast.AST:
        """The function (or the module) a node sits in."""
        at = self.parents.get(node)
        while at is not None and not isinstance(
            at, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
        ):
            at = self.parents.get(at)
        return at if at is not None else self.tree

    def scope_name(self, scope: ast.AST) -> str:
        return getattr(scope, "name", "<module>")


def callee(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def argument(call: ast.Call, position: int | None, keyword: str) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == keyword:
            return kw.value
    if position is not None and position < len(call.args):
        arg = call.args[position]
        return None if isinstance(arg, ast.Starred) else arg
    return None


class Scanner:
    def __init__(self, modules: list[Module]) -> None:
        self.modules = modules
        self.functions: dict[str, list[tuple[Module, ast.FunctionDef | ast.AsyncFunctionDef]]] = {}
        self.calls: dict[str, list[tuple[Module, ast.Call]]] = {}
        self.globals: dict[str, list[tuple[Module, ast.expr]]] = {}
        self.classes: dict[str, list[tuple[Module, ast.ClassDef]]] = {}
        for module in modules:
            for node in ast.walk(module.tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    self.functions.setdefault(node.name, []).append((module, node))
                elif isinstance(node, ast.Call) and (name := callee(node)):
                    self.calls.setdefault(name, []).append((module, node))
                elif isinstance(node, ast.ClassDef):
                    self.classes.setdefault(node.name, []).append((module, node))
            for statement in module.tree.body:
                for target, value in assignments(statement):
                    if isinstance(target, ast.Name):
                        self.globals.setdefault(target.id, []).append((module, value))
        self.busy: set[tuple[int, str]] = set()
        self.memo: dict[tuple[int, str], frozenset[object]] = {}

    # -- following a value ------------------------------------------------------------------

    def where(self, module: Module, node: ast.AST) -> str:
        scope = module.scope_of(node)
        return f"{module.path}:{module.scope_name(scope)}:{ast.unparse(node)}"

    def resolve(self, module: Module, node: ast.expr) -> frozenset[object]:
        key = (id(node), "value")
        if key in self.memo:
            return self.memo[key]
        if key in self.busy:
            return frozenset()
        self.busy.add(key)
        try:
            found = frozenset(self._resolve(module, node))
        finally:
            self.busy.discard(key)
        self.memo[key] = found
        return found

    def _resolve(self, module: Module, node: ast.expr) -> Iterator[object]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value
        elif isinstance(node, ast.Tuple):
            yield Tup(tuple(self.resolve(module, e) for e in node.elts))
        elif isinstance(node, ast.List | ast.Set):
            yield Coll(frozenset().union(*(self.resolve(module, e) for e in node.elts)))
        elif isinstance(node, ast.Dict):
            yield Coll(frozenset().union(*(self.resolve(module, v) for v in node.values)))
        elif isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp):
            yield Coll(self.resolve(module, node.elt))
        elif isinstance(node, ast.IfExp):
            yield from self.resolve(module, node.body)
            yield from self.resolve(module, node.orelse)
        elif isinstance(node, ast.BoolOp):
            for value in node.values:
                yield from self.resolve(module, value)
        elif isinstance(node, ast.Subscript):
            index = node.slice
            for held in self.resolve(module, node.value):
                if isinstance(held, Coll):
                    yield from held.items
                elif isinstance(held, Tup):
                    if isinstance(index, ast.Constant) and isinstance(index.value, int):
                        yield from held.items[index.value]
                    else:
                        yield from frozenset().union(*held.items)
                else:
                    yield held
        elif isinstance(node, ast.Name):
            yield from self.name(module, node)
        elif isinstance(node, ast.Attribute):
            yield from self.attribute(module, node)
        elif isinstance(node, ast.Call):
            yield from self.call(module, node)
        else:
            yield Unknown(self.where(module, node), "not a literal the scanner can follow")

    def attribute(self, module: Module, node: ast.Attribute) -> Iterator[object]:
        # Enum.MEMBER.value, Enum.MEMBER, Class.CONSTANT
        target = node.value if node.attr == "value" else node
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            for _, cls in self.classes.get(target.value.id, []):
                for statement in cls.body:
                    for name, value in assignments(statement):
                        if isinstance(name, ast.Name) and name.id == target.attr:
                            found = self.resolve(module_of(self, cls), value)
                            yield from found
                            return
        # module.CONSTANT, for a module of Herald imported whole
        if isinstance(node.value, ast.Name) and node.attr in self.globals:
            owners = [
                (o, v)
                for o, v in self.globals[node.attr]
                if o.path.removesuffix(".py").split("/")[-1] == node.value.id
            ]
            if owners:
                for owner, value in owners:
                    yield from self.resolve(owner, value)
                return
        yield Unknown(self.where(module, node), "an attribute the scanner cannot follow")

    def call(self, module: Module, node: ast.Call) -> Iterator[object]:
        name = callee(node)
        if name == "get" and isinstance(node.func, ast.Attribute):
            # mapping.get(key, default): any of its values, or the default
            for value in self.resolve(module, node.func.value):
                yield from value.items if isinstance(value, Coll) else (value,)
            if len(node.args) > 1:
                yield from self.resolve(module, node.args[1])
            return
        if name in {"tuple", "list", "sorted", "frozenset", "set"} and node.args:
            yield from self.resolve(module, node.args[0])
            return
        defs = self.functions.get(name or "", [])
        if not defs:
            yield Unknown(self.where(module, node), "a call to no function of Herald")
            return
        for owner, function in defs:
            returns = [
                r
                for r in ast.walk(function)
                if isinstance(r, ast.Return) and r.value and owner.scope_of(r) is function
            ]
            for r in returns:
                assert r.value is not None
                yield from self.resolve(owner, r.value)

    def name(self, module: Module, node: ast.Name) -> Iterator[object]:
        scope = module.scope_of(node)
        while scope is not module.tree:
            found = list(self.in_scope(module, scope, node.id))
            if found:
                yield from found
                return
            scope = module.scope_of(scope)
        # A module's own global first, else one imported from another module of Herald.
        owners = self.globals.get(node.id, [])
        mine = [(o, v) for o, v in owners if o is module]
        if owners:
            for owner, value in mine or owners:
                yield from self.resolve(owner, value)
            return
        yield Unknown(self.where(module, node), f"{node.id} is assigned nowhere the scanner sees")

    def in_scope(self, module: Module, scope: ast.AST, name: str) -> Iterator[object]:
        """What `name` can hold in one function: its assignments, loops, list appends, and
        for a parameter, what each call of the function passes."""
        for inner in ast.walk(scope):
            if inner is not scope and module.scope_of(inner) is not scope:
                continue
            if True:
                for target, value in assignments(inner):
                    yield from self.bind(module, target, name, self.resolve(module, value))
                if isinstance(inner, ast.For | ast.AsyncFor | ast.comprehension):
                    items = self.elements(module, inner.iter)
                    yield from self.bind(module, inner.target, name, items)
                if (
                    isinstance(inner, ast.Call)
                    and isinstance(inner.func, ast.Attribute)
                    and isinstance(inner.func.value, ast.Name)
                    and inner.func.value.id == name
                    and inner.func.attr in {"append", "add", "extend", "insert"}
                    and inner.args
                ):
                    arg = inner.args[-1]
                    items = (
                        self.elements(module, arg)
                        if inner.func.attr == "extend"
                        else self.resolve(module, arg)
                    )
                    yield Coll(items)
        if isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield from self.parameter(module, scope, name)

    def bind(
        self, module: Module, target: ast.expr, name: str, values: Iterable[object]
    ) -> Iterator[object]:
        if isinstance(target, ast.Name):
            if target.id == name:
                yield from values
        elif isinstance(target, ast.Tuple | ast.List):
            for index, element in enumerate(target.elts):
                picked: set[object] = set()
                for value in values:
                    if isinstance(value, Tup) and index < len(value.items):
                        picked |= value.items[index]
                    elif isinstance(value, Unknown):
                        picked.add(value)
                yield from self.bind(module, element, name, picked)

    def elements(self, module: Module, node: ast.expr) -> frozenset[object]:
        """What iterating over `node` gives."""
        if isinstance(node, ast.Call) and callee(node) in {"enumerate", "zip"}:
            parts = [self.elements(module, a) for a in node.args]
            if callee(node) == "enumerate":
                parts = [frozenset({"<index>"}), *parts]
            return frozenset({Tup(tuple(parts))})
        out: set[object] = set()
        for value in self.resolve(module, node):
            if isinstance(value, Coll):
                out |= value.items
            elif isinstance(value, Unknown):
                out.add(value)
        return frozenset(out)

    def parameter(
        self,
        module: Module,
        function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda,
        name: str,
    ) -> Iterator[object]:
        args = function.args
        positional = [a.arg for a in (*args.posonlyargs, *args.args)]
        every = positional + [a.arg for a in args.kwonlyargs]
        if name not in every:
            return
        if isinstance(function, ast.Lambda):
            yield Unknown(f"{module.path}:<lambda>:{name}", "a lambda's parameter")
            return
        defaults: dict[str, ast.expr] = dict(
            zip(positional[len(positional) - len(args.defaults) :], args.defaults, strict=True)
        )
        defaults |= {a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d}
        method = bool(positional) and positional[0] in {"self", "cls"}
        index = positional.index(name) if name in positional else None
        calls = [
            (owner, call)
            for owner, call in self.calls.get(function.name, [])
            if self.binds(owner, call, module) and fits(function, call)
        ]
        if not calls:
            yield Unknown(f"{module.path}:{function.name}:{name}", "a parameter no call passes")
        for owner, call in calls:
            position = index
            if method and index is not None and isinstance(call.func, ast.Attribute):
                position = index - 1
            if any(isinstance(a, ast.Starred) for a in call.args) or any(
                k.arg is None for k in call.keywords
            ):
                yield Unknown(self.where(owner, call), "a call with *args or **kwargs")
                continue
            passed = argument(call, position, name)
            if passed is not None:
                yield from self.resolve(owner, passed)
            elif name in defaults:
                yield from self.resolve(module, defaults[name])

    def binds(self, owner: Module, call: ast.Call, module: Module) -> bool:
        """Whether a call in `owner` can reach the function of that name in `module`: a name
        defined or imported in `owner` is that one; any other (a callable passed in) may be."""
        name = callee(call)
        if isinstance(call.func, ast.Attribute) and not (
            isinstance(call.func.value, ast.Name) and call.func.value.id in {"self", "cls"}
        ):
            return True
        if owner is module:
            return True
        if any(o is owner for o, _ in self.functions.get(name or "", [])):
            return False
        source = self.imports(owner).get(name or "")
        return source is None or source == module.path

    def imports(self, module: Module) -> dict[str, str]:
        found: dict[str, str] = {}
        for node in ast.walk(module.tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("herald"):
                base = (node.module or "").removeprefix("herald").strip(".").replace(".", "/")
                for alias in node.names:
                    path = f"{base}.py" if base else "__init__.py"
                    if not any(m.path == path for m in self.modules):
                        path = f"{base}/__init__.py"
                    found[alias.asname or alias.name] = path
        return found

    # -- the four lists ---------------------------------------------------------------------

    def sinks(self) -> Iterator[tuple[str, Module, ast.expr]]:
        for module in self.modules:
            for node in ast.walk(module.tree):
                if not isinstance(node, ast.Call):
                    continue
                name = callee(node)
                for sink, category, position, keyword, default in SINKS:
                    if name != sink:
                        continue
                    named = any(k.arg == keyword for k in node.keywords)
                    if not named and (
                        any(isinstance(a, ast.Starred) for a in node.args)
                        or any(k.arg is None for k in node.keywords)
                    ):
                        # *args or **kwargs: which one is the code cannot be read. The call
                        # itself then resolves to an Unknown that names the place.
                        yield category, module, node
                        continue
                    value = argument(node, position, keyword)
                    if value is None and default is not None:
                        value = ast.Constant(default)
                    if value is not None:
                        yield category, module, value
                receiver, method, position, keyword = OUTBOX
                if (
                    name == method
                    and isinstance(node.func, ast.Attribute)
                    and ast.unparse(node.func.value).endswith(receiver)
                ):
                    value = argument(node, position, keyword)
                    if value is not None:
                        yield "event", module, value

    def class_codes(self) -> Iterator[tuple[str, Module, ast.expr]]:
        """`code = "..."` in a class of the HeraldError tree: its problem's type."""
        tree = {"HeraldError"}
        changed = True
        while changed:
            changed = False
            for name, found in self.classes.items():
                for _, cls in found:
                    bases = {
                        b.id if isinstance(b, ast.Name) else getattr(b, "attr", "")
                        for b in cls.bases
                    }
                    if name not in tree and bases & tree:
                        tree.add(name)
                        changed = True
        for name in sorted(tree):
            for module, cls in self.classes.get(name, []):
                for statement in cls.body:
                    for target, value in assignments(statement):
                        if isinstance(target, ast.Name) and target.id == "code":
                            yield "problem", module, value

    def error_kinds(self) -> Iterator[tuple[str, Module, ast.expr]]:
        for module, cls in self.classes.get("ErrorKind", []):
            for statement in cls.body:
                for target, value in assignments(statement):
                    if isinstance(target, ast.Name) and target.id.isupper():
                        yield "error_kind", module, value

    def pydantic_codes(self) -> set[str]:
        codes = set(PYDANTIC_ALWAYS)
        for module in self.modules:
            if not module.path.startswith("api/"):
                continue
            for node in ast.walk(module.tree):
                if isinstance(node, ast.Call) and callee(node) in {
                    "Field",
                    "Query",
                    "Path",
                    "Header",
                }:
                    for kw in node.keywords:
                        codes.update(PYDANTIC_BY_KEYWORD.get(kw.arg or "", ()))
                elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "Literal":
                    codes.add("literal_error")
                elif (
                    isinstance(node, ast.keyword)
                    and node.arg == "extra"
                    and isinstance(node.value, ast.Constant)
                    and node.value.value == "forbid"
                ):
                    codes.add("extra_forbidden")
        # A StrEnum in a query or a body (statuses, platforms) answers `enum`.
        if self.classes:
            codes.add("enum")
        return codes

    def scan(self) -> tuple[dict[str, list[str]], list[Unknown]]:
        found: dict[str, set[str]] = {
            "problem": set(),
            "field": set(),
            "error_kind": set(),
            "event": set(),
        }
        unknown: list[Unknown] = []
        borrowed: list[tuple[str, str]] = []
        for category, module, node in (*self.sinks(), *self.class_codes(), *self.error_kinds()):
            for value in flatten(self.resolve(module, node)):
                if isinstance(value, Unknown):
                    if value.where not in OPAQUE:
                        unknown.append(value)
                    elif (source := OPAQUE[value.where][1]) is not None:
                        borrowed.append((category, source))
                elif isinstance(value, str) and value != "<index>":
                    found[category].add(value)
        for category, source in borrowed:
            found[category] |= found[source]
        found["field"] |= self.pydantic_codes()
        found["field"].discard("json_invalid")  # answered as the malformed_json problem
        return {k: sorted(v) for k, v in found.items()}, sorted(set(unknown), key=str)


def fits(function: ast.FunctionDef | ast.AsyncFunctionDef, call: ast.Call) -> bool:
    """Whether a call's arguments fit a function's signature (a method called on an object
    passes its self implicitly)."""
    args = function.args
    positional = [a.arg for a in (*args.posonlyargs, *args.args)]
    if positional and positional[0] in {"self", "cls"} and isinstance(call.func, ast.Attribute):
        positional = positional[1:]
    given = {k.arg for k in call.keywords if k.arg}
    if len(call.args) > len(positional) and args.vararg is None:
        return False
    named = {a.arg for a in (*args.args, *args.kwonlyargs)}
    if args.kwarg is None and not given <= named:
        return False
    required = positional[: len(positional) - len(args.defaults)]
    if any(p not in given for p in required[len(call.args) :]):
        return False
    kw_required = [
        a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is None
    ]
    return all(k in given for k in kw_required)


def flatten(values: Iterable[object]) -> Iterator[object]:
    for value in values:
        if isinstance(value, Tup):
            for item in value.items:
                yield from flatten(item)
        elif isinstance(value, Coll):
            yield from flatten(value.items)
        else:
            yield value


def assignments(node: ast.AST) -> Iterator[tuple[ast.expr, ast.expr]]:
    if isinstance(node, ast.Assign):
        for target in node.targets:
            yield target, node.value
    elif isinstance(node, ast.AnnAssign | ast.NamedExpr | ast.AugAssign):
        # `x += [...]` adds to what x holds; `x -= ...` and the like make no code.
        added = not isinstance(node, ast.AugAssign) or isinstance(node.op, ast.Add)
        if node.value is not None and added:
            yield node.target, node.value


def module_of(scanner: Scanner, node: ast.AST) -> Module:
    for module in scanner.modules:
        if node in module.parents or node is module.tree:
            return module
    raise LookupError(node)


def load(package: Path) -> list[Module]:
    modules = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package).as_posix()
        if relative.startswith(SKIP):
            continue
        modules.append(Module(relative, ast.parse(path.read_text(), filename=str(path))))
    return modules


def scan(package: Path = PACKAGE) -> tuple[dict[str, list[str]], list[Unknown]]:
    return Scanner(load(package)).scan()


def render(codes: dict[str, list[str]]) -> str:
    return json.dumps(codes, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the file is out of date")
    parser.add_argument("--package", type=Path, default=PACKAGE)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    codes, unknown = scan(args.package)
    if unknown:
        for u in unknown:
            print(f"cannot follow a code to a literal: {u.where} ({u.why})", file=sys.stderr)
        print("make it a literal Herald can be read for, or name it in OPAQUE", file=sys.stderr)
        return 2
    text = render(codes)
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != text:
            shown = (
                args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output
            )
            print(
                f"{shown} is out of date: run python dashboard/scripts/api_codes.py, then give"
                " each new code its words in dashboard/src/lib/words.ts",
                file=sys.stderr,
            )
            return 1
        return 0
    args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
