"""YAML read with bounds checked before anything is built: size, nesting depth, and alias expansion.

PyYAML's ``safe_load`` shares an aliased node between its uses, so a "billion laughs" file (nine
levels of ten aliases each) is small in memory until something walks it: pydantic validation
then takes 48 s and ends in ``MemoryError``, and a flow's parameters reach 2.8 GB. Here the
document is composed into PyYAML's node graph (aliases still shared), the size it would have
once every alias were copied is counted per node (memoized, so counting is linear in the file),
and only a document under :data:`MAX_NODES` is constructed. A recursive alias and nesting deeper
than :data:`MAX_DEPTH` are refused the same way, each with one line naming the file.

>>> load_yaml_bounded("a: &x [1, 2]\\nb: *x\\n", "flows.yaml")
{'a': [1, 2], 'b': [1, 2]}
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from nlpkit.errors import ConfigError

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "load_yaml_bounded"]

#: Largest settings file read (flows.yaml is a few KB).
MAX_BYTES = 4 * 1024 * 1024
#: Most nodes the document may have with every alias expanded (the project's flows.yaml: ~600).
MAX_NODES = 100_000
#: Deepest nesting of mappings and sequences.
MAX_DEPTH = 64


def load_yaml_bounded(text: str, origin: str) -> Any:
    """``yaml.safe_load(text)`` after checking size, depth and expanded size; ConfigError naming ``origin``."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise ConfigError(f"{origin}: the file is over {MAX_BYTES // (1024 * 1024)} MiB; a settings file is a few KB")
    loader = yaml.SafeLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:
            raise ConfigError(f"{origin}: nesting is too deep (over {MAX_DEPTH} levels)") from None
        if node is None:
            return None
        _check_graph(node, origin)
        try:
            return loader.construct_document(node)
        except ValueError as e:  # e.g. an integer of more than 4300 digits
            raise ConfigError(f"{origin}: a value cannot be read: {str(e)[:200]}") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{origin}: not valid YAML: {' '.join(str(e).split())}") from e
    finally:
        loader.dispose()


def _check_graph(root: Node, origin: str) -> None:
    """Raise when the graph nests deeper than MAX_DEPTH, holds a cycle, or expands past MAX_NODES."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    # iterative post-order walk: (node, depth, children pushed?)
    stack: list[tuple[Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, expanded = stack.pop()
        key = id(node)
        if expanded:
            on_path.discard(key)
            total = 1 + sum(sizes[id(c)] for c in _children(node))
            if total > MAX_NODES:
                raise ConfigError(f"{origin}: YAML aliases expand to over {MAX_NODES:,} values (line "
                                  f"{node.start_mark.line + 1}); refusing an alias bomb: write the values out")
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise ConfigError(f"{origin}: recursive YAML alias at line {node.start_mark.line + 1}; "
                              "an anchor cannot contain itself")
        if depth > MAX_DEPTH:
            raise ConfigError(f"{origin}: nesting is too deep at line {node.start_mark.line + 1} "
                              f"(over {MAX_DEPTH} levels)")
        on_path.add(key)
        stack.append((node, depth, True))
        for child in _children(node):
            if id(child) in on_path:
                raise ConfigError(f"{origin}: recursive YAML alias at line {child.start_mark.line + 1}; "
                                  "an anchor cannot contain itself")
            if id(child) not in sizes:
                stack.append((child, depth + 1, False))


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []
