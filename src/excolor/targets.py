"""Where a `_target_` leads: the module whose code defines the object a dotted path names.

Hydra builds `_target_: a.b.C` with `hydra._internal.utils._locate`: import `a`, then walk the
attributes `b`, `C`, importing a submodule where a module lacks the attribute. The object found may be
defined far from where the path says (`excolor.config.os.system` is `os.system`, defined in `posix`),
so a check by string alone is not enough. `resolve(path)` answers where the object is defined:

- first by reading source, importing nothing (`resolve_static`): a module's top-level bindings
  (`class`/`def`, `import`, `from … import`, `name = other.name`), followed through re-exports until
  a `class` or `def` (or a module) is reached; a class's own `def`s are walked too;
- where the source does not settle it (a binding made at run time, a star import, a module-level
  `__getattr__`, a name bound only under `if`/`try`), by doing what Hydra does: `_locate(path)` and
  the found object's `__module__` (`defining_module`). Callers import only paths whose string
  already lies in a trusted package (see `excolor.console.check_trusted`).

`module_spec` / `module_file` find a module's source without importing it (for the cache key too).
"""

from __future__ import annotations

import ast
import functools
import importlib.machinery
import importlib.util
import itertools
import sys
import types
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.machinery import ModuleSpec
from pathlib import Path
from typing import Any


class Unresolved(Exception):
    """The source alone does not say where a path leads (the caller falls back to importing)."""


@dataclass(frozen=True)
class Resolved:
    """Where `path` leads: `module` is the module that defines the object (or the module itself)."""

    path: str
    module: str


def within(name: str, packages: Sequence[str]) -> bool:
    """`name` is one of `packages` or inside one (`a.b.c` is within `a.b`; `a.bc` is not)."""
    return any(name == package or name.startswith(package + ".") for package in packages)


# --- finding modules without importing them --------------------------------------------------------


def module_spec(name: str) -> ModuleSpec | None:
    """The import spec of module `name`, found as the import system would but importing nothing: the
    top-level name through every finder on `sys.meta_path` (editable installs included), each
    submodule by the path finder in its parent package's directories. None if there is no such module."""
    parts = name.split(".")
    try:
        spec = importlib.util.find_spec(parts[0])
    except (ImportError, ValueError):
        return None
    for depth in range(1, len(parts)):
        locations = spec.submodule_search_locations if spec is not None else None
        if not locations:
            return None
        spec = importlib.machinery.PathFinder.find_spec(".".join(parts[: depth + 1]), list(locations))
    return spec


def module_file(name: str) -> Path | None:
    """The Python source file of module `name` (`a/b.py` or `a/b/__init__.py`), or None (no such
    module, a namespace package, a compiled or built-in module)."""
    spec = module_spec(name)
    origin = getattr(spec, "origin", None)
    if not origin or not origin.endswith(".py"):
        return None
    path = Path(origin)
    return path if path.is_file() else None


def is_package(name: str) -> bool:
    spec = module_spec(name)
    return spec is not None and spec.submodule_search_locations is not None


# --- the source of one module: its top-level bindings ----------------------------------------------


@dataclass(frozen=True)
class _Binding:
    kind: (
        str  # "def" (class or function defined here), "module", "from", "alias", "opaque", "star", "deleted"
    )
    conditional: bool
    value: Any = None  # module name / (module, attribute) / dotted alias / ClassDef node
    order: int = 0  # position in the module's source order


@functools.lru_cache(maxsize=512)
def _parse(file: str, stamp: tuple[int, int]) -> ast.Module:
    return ast.parse(Path(file).read_bytes(), filename=file)


def _tree(file: Path) -> ast.Module:
    stat = file.stat()
    return _parse(str(file), (stat.st_mtime_ns, stat.st_size))


def relative_base(module: str, is_pkg: bool, level: int, target: str | None) -> str:
    """The absolute module of `from <level dots><target> import …` written in `module`."""
    package = module if is_pkg else module.rpartition(".")[0]
    parts = package.split(".")
    base = ".".join(parts[: len(parts) - level + 1])
    return f"{base}.{target}" if target else base


def _dotted(node: ast.expr) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _bindings(module: str, file: Path, is_pkg: bool) -> dict[str, list[_Binding]]:
    """Every top-level binding of each name, in source order ("*" collects the star imports)."""
    found: dict[str, list[_Binding]] = {}
    counter = itertools.count()

    def bind(name: str, binding: _Binding) -> None:
        found.setdefault(name, []).append(
            _Binding(binding.kind, binding.conditional, binding.value, next(counter))
        )

    def store(target: ast.expr, conditional: bool, value: _Binding | None = None) -> None:
        if isinstance(target, ast.Name):
            bind(target.id, value or _Binding("opaque", conditional))
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                store(element, conditional)
        elif isinstance(target, ast.Starred):
            store(target.value, conditional)

    def visit(statements: list[ast.stmt], conditional: bool) -> None:
        for node in statements:
            if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                bind(node.name, _Binding("def", conditional, node))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        bind(alias.asname, _Binding("module", conditional, alias.name))
                    else:
                        top = alias.name.split(".")[0]
                        bind(top, _Binding("module", conditional, top))
            elif isinstance(node, ast.ImportFrom):
                source = (
                    relative_base(module, is_pkg, node.level, node.module)
                    if node.level
                    else node.module or ""
                )
                for alias in node.names:
                    if alias.name == "*":
                        bind("*", _Binding("star", conditional, source))
                    else:
                        bind(alias.asname or alias.name, _Binding("from", conditional, (source, alias.name)))
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                value = node.value
                dotted = _dotted(value) if value is not None else None
                binding = (
                    _Binding("alias", conditional, dotted) if dotted else _Binding("opaque", conditional)
                )
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if value is None:  # a bare annotation binds nothing
                    continue
                for target in targets:
                    store(target, conditional, binding if isinstance(target, ast.Name) else None)
            elif isinstance(node, ast.AugAssign):
                store(node.target, conditional)
            elif isinstance(node, ast.Delete):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        bind(target.id, _Binding("deleted", conditional))
            elif isinstance(node, (ast.For, ast.AsyncFor)):
                store(node.target, True)
                visit(node.body, True)
                visit(node.orelse, True)
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    if item.optional_vars is not None:
                        store(item.optional_vars, conditional)
                visit(node.body, conditional)
            elif isinstance(node, (ast.If, ast.While)):
                visit(node.body, True)
                visit(node.orelse, True)
            elif isinstance(node, ast.Try) or (sys.version_info >= (3, 11) and isinstance(node, ast.TryStar)):
                visit(node.body, True)
                for handler in node.handlers:
                    if handler.name:
                        bind(handler.name, _Binding("opaque", True))
                    visit(handler.body, True)
                visit(node.orelse, True)
                visit(node.finalbody, conditional)
            elif isinstance(node, ast.Match):
                for case in node.cases:
                    visit(case.body, True)

    visit(_tree(file).body, False)
    return found


# --- the walk --------------------------------------------------------------------------------------

_MAX_HOPS = 64  # re-export chains longer than this are not followed (a cycle, say)


@dataclass(frozen=True)
class _Place:
    """Where the walk stands: a module, or a class/function defined in `module` (`node` its AST)."""

    module: str
    node: ast.AST | None = None


def _source(module: str) -> tuple[dict[str, list[_Binding]], bool] | None:
    """The top-level bindings of `module` and whether it is a package; None for a namespace package
    (no source, only submodules). `Unresolved` for a module with no Python source."""
    spec = module_spec(module)
    if spec is None:
        raise Unresolved(f"no module {module!r}")
    if spec.origin in (None, "namespace") and spec.submodule_search_locations is not None:
        return None
    file = module_file(module)
    if file is None:
        raise Unresolved(f"{module}: no Python source")
    pkg = file.name == "__init__.py"
    return _bindings(module, file, pkg), pkg


def _lookup(module: str, name: str, hops: int) -> _Place:
    """What `getattr(<module>, name)` is, from the source of `module`."""
    if hops > _MAX_HOPS:
        raise Unresolved(f"{module}.{name}: too many re-exports")
    source = _source(module)
    if source is None:  # a namespace package: only its submodules
        if module_spec(f"{module}.{name}") is not None:
            return _Place(f"{module}.{name}")
        raise Unresolved(f"namespace package {module} has no submodule {name!r}")
    bindings, pkg = source
    own = bindings.get(name, [])
    last = own[-1] if own else None
    for star in reversed(bindings.get("*", [])):  # a later star import may rebind the name
        if last is not None and star.order < last.order:
            break
        if _star_provides(star.value, name, hops + 1):
            if star.conditional:
                raise Unresolved(f"{module}.{name} may come from a conditional star import")
            return _lookup(star.value, name, hops + 1)
    if last is not None:
        if last.conditional:
            raise Unresolved(f"{module}.{name} is bound conditionally (under if/try/for)")
        return _follow(module, name, last, hops)
    if "__getattr__" in bindings:
        raise Unresolved(f"{module} answers attributes at run time (__getattr__)")
    if pkg and module_spec(f"{module}.{name}") is not None:  # _locate imports the submodule
        return _Place(f"{module}.{name}")
    raise Unresolved(f"{module} has no attribute {name!r} in its source")


def _star_provides(module: str, name: str, hops: int) -> bool:
    """Whether `from <module> import *` binds `name`: listed in a literal `__all__`, else a public
    top-level name of `module` (or of its own star imports)."""
    if hops > _MAX_HOPS:
        raise Unresolved(f"{module}: too many star imports")
    if module_spec(module) is None:  # a star import that fails (inside try) binds nothing
        return False
    source = _source(module)
    if source is None:
        return False
    bindings, _ = source
    exported = _literal_all(module)
    if exported is not None:
        return name in exported
    if name.startswith("_"):
        return False
    return name in bindings or any(
        _star_provides(star.value, name, hops + 1) for star in bindings.get("*", [])
    )


def _literal_all(module: str) -> list[str] | None:
    """`__all__` when the module assigns it once, unconditionally, as a literal list/tuple of strings;
    `Unresolved` when it is built some other way; None when there is none."""
    file = module_file(module)
    assert file is not None
    values: list[ast.expr | None] = []
    for node in _tree(file).body:
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            names = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(name, ast.Name) and name.id == "__all__" for name in names):
                values.append(node.value)
    if not values:
        return None
    value = values[0]
    if len(values) > 1 or not isinstance(value, (ast.List, ast.Tuple)):
        raise Unresolved(f"{module}.__all__ is not one literal list")
    exported = [e.value for e in value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    if len(exported) != len(value.elts):
        raise Unresolved(f"{module}.__all__ is not a list of strings")
    return exported


def _follow(module: str, name: str, binding: _Binding, hops: int) -> _Place:
    if binding.kind == "def":
        return _Place(module, binding.value)
    if binding.kind == "module":
        return _Place(binding.value)
    if binding.kind == "from":
        source, attribute = binding.value
        try:
            return _lookup(source, attribute, hops + 1)
        except Unresolved:
            # `from pkg import sub` binds the submodule when pkg's source does not bind `sub` itself
            if module_spec(f"{source}.{attribute}") is not None and is_package(source):
                return _Place(f"{source}.{attribute}")
            raise
    if binding.kind == "alias":
        first, _, rest = binding.value.partition(".")
        if first == name:
            raise Unresolved(f"{module}.{name} rebinds itself")
        place = _lookup(module, first, hops + 1)
        return _walk(place, rest.split(".") if rest else [], hops + 1)
    raise Unresolved(f"{module}.{name} is a value computed at run time")


def _walk(place: _Place, parts: list[str], hops: int) -> _Place:
    for part in parts:
        if place.node is None:
            place = _lookup(place.module, part, hops)
        elif isinstance(place.node, ast.ClassDef):
            place = _class_attribute(place, part)
        else:
            raise Unresolved(f"attribute {part!r} of a function")
    return place


def _class_attribute(place: _Place, name: str) -> _Place:
    """A `def`/`class` in the class body (anything else, inherited ones included, is left to Python)."""
    node = place.node
    assert isinstance(node, ast.ClassDef)
    found = [
        child
        for child in node.body
        if getattr(child, "name", None) == name
        and isinstance(child, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
    ]
    others = [
        child
        for child in node.body
        if isinstance(child, (ast.Assign, ast.AnnAssign))
        and any(
            isinstance(t, ast.Name) and t.id == name
            for t in getattr(child, "targets", [getattr(child, "target", None)])
        )
    ]
    if len(found) != 1 or others:
        raise Unresolved(f"{node.name}.{name} is not one def in the class body")
    return _Place(place.module, found[0])


def _place(path: str) -> _Place:
    """Where `path` leads, from source alone (`Unresolved` when the source does not settle it)."""
    parts = path.split(".")
    if not all(part.isidentifier() for part in parts):
        raise Unresolved(f"{path!r} is not a dotted path")
    if module_spec(parts[0]) is None:
        raise Unresolved(f"no module {parts[0]!r}")
    return _walk(_Place(parts[0]), parts[1:], 0)


def resolve_static(path: str) -> Resolved:
    """Where `path` leads, from source alone (`Unresolved` when the source does not settle it)."""
    return Resolved(path, _place(path).module)


def definition(path: str) -> tuple[str, ast.AST] | None:
    """The module that defines the class or function `path` leads to, and its AST node, from source
    alone (re-exports followed); None for a module or where the source does not settle it."""
    try:
        place = _place(path)
    except Unresolved:
        return None
    return None if place.node is None else (place.module, place.node)


def defining_module(obj: Any) -> str:
    """The module whose code defines `obj`: a module's own name; else `__module__` (of the wrapped
    function for a `functools.partial`; of its type for an instance without one)."""
    if isinstance(obj, types.ModuleType):
        return obj.__name__
    while isinstance(obj, functools.partial):
        obj = obj.func
    module = getattr(obj, "__module__", None)
    return module if isinstance(module, str) else type(obj).__module__


def resolve_dynamic(path: str) -> Resolved:
    """Where `path` leads, the way Hydra finds it: `_locate` (imports) and the object's module."""
    from hydra._internal.utils import _locate

    obj = _locate(path)
    return Resolved(path, defining_module(obj))


def resolve(path: str) -> Resolved:
    """`resolve_static`, else `resolve_dynamic` (ImportError when the path leads nowhere)."""
    try:
        return resolve_static(path)
    except Unresolved:
        return resolve_dynamic(path)
