"""The local stack's DynamoDB (moto's server) without re-parsing the same expressions per request.

Where moto 5.2's CPU goes on one of Herald's conditional UpdateItems (a burst's claim, measured
in its server with cProfile): the update expression is lexed and parsed twice (the handler and the
backend each call `UpdateExpressionParser.make`), and so is the condition expression
(`ConditionExpressionParser.parse`); the validator deep-copies the parsed tree before it resolves
it against the item, and its ten processors each rebuild their class-to-method map for every node
they visit, one of them counting the clauses under every nested node (quadratic in the clauses);
and the answer's item is serialized by walking botocore's shapes, every attribute value trying
each of the ten members of `AttributeValue` through an alias picker. With an item the size of a
post, that is most of the 12-15 ms a write costs (more under load), in one process, and a burst
of 1,000 posts is three such writes each.

`apply` keeps moto's answers and removes the repetition:

- an update expression is parsed once per text (`make` depends on nothing else); the cached tree
  is only read (`find_clauses`) or copied by the validator before anything changes it;
- a condition expression is parsed once per text: the tree moto builds depends on the text
  alone, and the names and values are looked up by placeholder into its leaves, so a cached
  tree gets this request's names and values put into those leaves before moto turns it into its
  operators (a placeholder missing from this request falls back to moto's own parse, which
  raises what moto raises);
- the validator copies the tree by pickling it (the tree is plain objects: lists, strings,
  moto's nodes), a tenth of `deepcopy`'s time, and by `deepcopy` whenever pickling refuses;
- each processor keeps its map; the clause count, which depends on the text alone and changes
  nothing, is made once when the text is parsed and not again for that tree's copies (a tree
  that fails it is counted, and refused, by moto every time);
- an `AttributeValue` of the JSON protocol whose one member is S, N, BOOL, NULL, SS, NS, M or L
  (of the same) is written as moto's serializer writes it, without the walk; anything else
  (binary values, an unexpected shape) takes moto's own path.

Only the local stack's moto server applies it (herald.local.moto_server and the stack's moto
thread): never the tests' `mock_aws`, never AWS. tests/integration/local/test_moto_dynamodb.py
checks the answers against moto's own for the writes, reads and refusals of a burst's path, and
bench/bench_moto_dynamodb.py measures the CPU of each write both ways. Against a moto whose
internals moved, `apply` leaves moto as it is and says so.
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from typing import Any

from herald.local.moto_patches import Patches

CACHE_SIZE = 512  # distinct expression texts kept; Herald's repositories use a few dozen

_update_trees: dict[str, Any] = {}
_condition_trees: dict[str, tuple[Any, list[str], list[str], frozenset[str], frozenset[str]]] = {}


def _remember(cache: dict[str, Any], key: str, value: Any) -> None:
    if len(cache) >= CACHE_SIZE:
        cache.clear()  # an unbounded stream of texts (not Herald's) costs a re-parse, not memory
    cache[key] = value


COUNTED = "_herald_clauses_counted"  # set on a cached tree that moto's ActionCountValidator passed


def _cached_make(
    original: Callable[[str], Any], count: Callable[[Any], Any]
) -> Callable[[Any, str], Any]:
    def make(cls: Any, expression_str: str) -> Any:
        tree = _update_trees.get(expression_str)
        if tree is None:
            tree = original(expression_str)  # raises for a bad expression: nothing is cached
            try:
                count(tree)
            except Exception:  # noqa: BLE001 - the validator raises it again, as moto does
                counted = False
            else:
                counted = True
            setattr(tree, COUNTED, counted)  # copied with the tree: see _counted_traverse
            _remember(_update_trees, expression_str, tree)
        return tree

    return make


def _counted_traverse(original: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """ActionCountValidator: how many SET, ADD and REMOVE clauses a tree has is its text's, and
    the check changes nothing (each node is returned as it is); a tree already counted when it
    was parsed (and its copies) is not counted again. Every other tree is counted by moto."""

    def traverse(self: Any, node: Any) -> Any:
        if getattr(node, COUNTED, False):
            return node
        return original(self, node)

    return traverse


def _processing_map(self: Any) -> dict[type, Any]:
    """DepthFirstTraverser: every processor's map is constant (classes to its own bound
    methods), but moto builds it again, with the tuple of its keys, for every node it visits."""
    cached: dict[type, Any] | None = self.__dict__.get("_herald_map")
    if cached is None:
        cached = self._processing_map()
        self.__dict__["_herald_map"] = cached
        self.__dict__["_herald_kinds"] = tuple(cached)
    return cached


def _nodes_to_be_processed(self: Any) -> tuple[type, ...]:
    kinds: tuple[type, ...] | None = self.__dict__.get("_herald_kinds")
    if kinds is None:
        _processing_map(self)
        kinds = self.__dict__["_herald_kinds"]
    return kinds


def _process(self: Any, node: Any) -> Any:
    for class_key, processor in _processing_map(self).items():
        if isinstance(node, class_key):
            return processor(node)
    return None


def _parse(self: Any) -> Any:
    """ConditionExpressionParser.parse, each tree built once per expression text."""
    text = self.condition_expression
    if not text:
        return _original("parse")(self)
    cached = _condition_trees.get(text)
    names = self.expression_attribute_names or {}
    values = self.expression_attribute_values or {}
    if cached is not None:
        node, names_found, values_found, name_holders, value_holders = cached
        if name_holders <= names.keys() and value_holders <= values.keys():
            self.expr_attr_names_found.extend(names_found)
            self.expr_attr_values_found.extend(values_found)
            return self._make_op_condition(_substitute(self, node, names, values))
    # moto's parse, step for step (ConditionExpressionParser.parse), keeping the tree it makes.
    nodes = self._lex_condition_expression()
    nodes = self._parse_paths(nodes)
    nodes = self._apply_functions(nodes)
    nodes = self._apply_comparator(nodes)
    nodes = self._apply_in(nodes)
    nodes = self._apply_between(nodes)
    nodes = self._apply_parens_and_booleans(nodes)
    node = nodes[0]
    self._assert_no_redundant_parentheses(node)
    names_found = self._find_literals(node)
    values_found = self._find_expr_attr_values(node)
    self.expr_attr_names_found.extend(names_found)
    self.expr_attr_values_found.extend(values_found)
    name_holders = frozenset(n for n in _holders(self, node) if n.startswith("#"))
    _remember(
        _condition_trees,
        text,
        (node, names_found, values_found, name_holders, frozenset(values_found)),
    )
    return self._make_op_condition(node)


def _holders(parser: Any, node: Any) -> list[str]:
    """Every identifier's text in the tree (the `#name` placeholders among them)."""
    kind = parser.Kind
    found: list[str] = []
    if node.kind == kind.LITERAL and node.nonterminal == parser.Nonterminal.IDENTIFIER:
        found.append(node.text)
    for child in node.children:
        found.extend(_holders(parser, child))
    return found


def _substitute(parser: Any, node: Any, names: dict[str, str], values: dict[str, Any]) -> Any:
    """The cached tree with this request's names and values in its leaves, where moto's lexer
    puts them (`_parse_path_element`: a `:value` leaf's value, a `#name` identifier's value)."""
    kind = parser.Kind
    if node.kind == kind.EXPRESSION_ATTRIBUTE_VALUE:
        return node._replace(value=values[node.text])
    if (
        node.kind == kind.LITERAL
        and node.nonterminal == parser.Nonterminal.IDENTIFIER
        and node.text.startswith("#")
    ):
        return node._replace(value=names[node.text])
    if not node.children:
        return node
    return node._replace(
        children=[_substitute(parser, child, names, values) for child in node.children]
    )


def _validator_init(
    self: Any,
    expression: Any,
    expression_attribute_names: dict[str, str],
    expression_attribute_values: dict[str, dict[str, Any]],
    item: Any,
    table: Any,
) -> None:
    """moto's Validator.__init__, copying the tree by pickling it."""
    self.expression_attribute_names = expression_attribute_names
    self.expression_attribute_values = expression_attribute_values
    self.item = item
    self.table = table
    self.processors = self.get_ast_processors()
    try:
        # Bytes made on the line itself from moto's own tree: nothing untrusted is unpickled.
        copied = pickle.dumps(expression, pickle.HIGHEST_PROTOCOL)
        self.node_to_validate = pickle.loads(copied)  # noqa: S301
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
        self.node_to_validate = copy.deepcopy(expression)


class _Unplain(Exception):
    """An attribute value the quick path does not write: moto's serializer does."""


_SCALARS = ("S", "N")
_FLAGS = ("BOOL", "NULL")
_SETS = ("SS", "NS")
_DYNAMODB = ("dynamodb", "dynamodbstreams")


def _plain(value: Any) -> Any:
    """An AttributeValue as moto's JSON serializer writes it (strings through `str`, flags as
    they are, maps and lists member by member), or _Unplain."""
    if type(value) is not dict or len(value) != 1:
        raise _Unplain
    ((member, inner),) = value.items()
    if member in _SCALARS and isinstance(inner, str):
        return {member: str(inner)}
    if member in _FLAGS and isinstance(inner, bool):
        return {member: inner}
    if member in _SETS and type(inner) is list and all(isinstance(s, str) for s in inner):
        return {member: [str(s) for s in inner]}
    if member == "M" and type(inner) is dict:
        return {"M": {str(k): _plain(v) for k, v in inner.items()}}
    if member == "L" and type(inner) is list:
        return {"L": [_plain(v) for v in inner]}
    raise _Unplain


def _quick_structure(original: Callable[..., None]) -> Callable[..., None]:
    def serialize(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if (
            key
            and shape.name == "AttributeValue"
            and self.operation_model.service_model.service_name in _DYNAMODB
        ):
            try:
                written = _plain(value)
            except _Unplain:
                pass
            else:
                serialized[self.get_serialized_name(shape, key)] = written
                return
        original(self, serialized, value, shape, key)

    return serialize


_originals: dict[str, Any] = {}
_NODE_FIELDS = ("nonterminal", "kind", "text", "value", "children")


def _original(name: str) -> Any:
    return _originals[name]


def _targets() -> list[tuple[Any, str, Any]] | None:
    """(owner, attribute, replacement) for every patch, or None when moto's internals are not
    the ones this module was written against."""
    try:
        from moto.core.serialize import BaseJSONSerializer
        from moto.dynamodb.comparisons import ConditionExpressionParser
        from moto.dynamodb.parsing.ast_nodes import (  # type: ignore[attr-defined]
            DepthFirstTraverser,
        )
        from moto.dynamodb.parsing.expressions import (  # type: ignore[attr-defined]
            UpdateExpressionParser,
        )
        from moto.dynamodb.parsing.validators import ActionCountValidator, Validator
    except ImportError:
        return None
    steps = [
        "_lex_condition_expression",
        "_parse_paths",
        "_apply_functions",
        "_apply_comparator",
        "_apply_in",
        "_apply_between",
        "_apply_parens_and_booleans",
        "_assert_no_redundant_parentheses",
        "_find_literals",
        "_find_expr_attr_values",
        "_make_op_condition",
    ]
    node = getattr(ConditionExpressionParser, "Node", None)
    needed = [
        all(callable(getattr(ConditionExpressionParser, s, None)) for s in steps),
        node is not None and tuple(getattr(node, "_fields", ())) == _NODE_FIELDS,
        isinstance(UpdateExpressionParser.__dict__.get("make"), classmethod),
        callable(getattr(Validator, "get_ast_processors", None)),
        callable(BaseJSONSerializer.__dict__.get("_serialize_type_structure")),
        all(
            callable(DepthFirstTraverser.__dict__.get(name))
            for name in ("nodes_to_be_processed", "process", "traverse", "_processing_map")
        ),
        "traverse" not in ActionCountValidator.__dict__,
    ]
    if not all(needed):
        return None
    make = UpdateExpressionParser.__dict__["make"].__func__
    _originals["parse"] = ConditionExpressionParser.__dict__["parse"]
    return [
        (
            UpdateExpressionParser,
            "make",
            classmethod(
                _cached_make(
                    lambda text: make(UpdateExpressionParser, text),
                    lambda tree: ActionCountValidator().traverse(tree),
                )
            ),
        ),
        (DepthFirstTraverser, "nodes_to_be_processed", _nodes_to_be_processed),
        (DepthFirstTraverser, "process", _process),
        (
            ActionCountValidator,
            "traverse",
            _counted_traverse(DepthFirstTraverser.__dict__["traverse"]),
        ),
        (ConditionExpressionParser, "parse", _parse),
        (Validator, "__init__", _validator_init),
        (
            BaseJSONSerializer,
            "_serialize_type_structure",
            _quick_structure(BaseJSONSerializer.__dict__["_serialize_type_structure"]),
        ),
    ]


def _forget_caches() -> None:
    _update_trees.clear()
    _condition_trees.clear()


_patches = Patches("DynamoDB", _targets, on_undo=_forget_caches)
apply = _patches.apply
undo = _patches.undo
patched = _patches.patched
