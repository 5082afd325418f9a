"""The keyword parameters a config's `_target_` takes, read from our own source without importing it
(the checks run before torch is imported), so that `+model.foo=1` is one line naming model's keys
instead of a TypeError from `instantiate` after the run has started.

`parameters("excolor.model.ColorAutoencoder")` → ("hidden", "bottleneck", "normalize", "output").
A function's parameters; a class's `__init__` parameters, and where that `__init__` passes
`**kwargs` on (or has none), its base classes' too. `None` ("any key may be right") where the source
does not settle it: a target outside `excolor`, a name the module imports from elsewhere, a base class
that is not ours (`**kwargs` forwarded to Lightning's WandbLogger), or anything unparsable.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "excolor"
SRC_DIR = Path(__file__).resolve().parents[1]
DEPTH = 8  # re-exports and base classes followed at most this deep


def _module_tree(module: str) -> ast.Module | None:
    """The parsed source of `excolor.…` module `module` (`a/b.py` or `a/b/__init__.py`), or None."""
    if module != PACKAGE and not module.startswith(PACKAGE + "."):
        return None
    base = SRC_DIR.joinpath(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            try:
                return ast.parse(path.read_text())
            except (SyntaxError, UnicodeDecodeError, OSError):
                return None
    return None


def _definition(module: str, name: str, depth: int = 0) -> tuple[str, ast.AST] | None:
    """The class or function `name` of `module`, following `from x import name` re-exports:
    (the module that defines it, its node)."""
    tree = _module_tree(module)
    if tree is None or depth > DEPTH:
        return None
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)) and node.name == name:
            return module, node
    is_package = (SRC_DIR.joinpath(*module.split(".")) / "__init__.py").is_file()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and any(
            (alias.asname or alias.name) == name for alias in node.names
        ):
            source = next(alias.name for alias in node.names if (alias.asname or alias.name) == name)
            if node.level:
                parts = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                origin = ".".join([*parts, *([node.module] if node.module else [])])
            else:
                origin = node.module or ""
            return _definition(origin, source, depth + 1)
    return None


def _arguments(function: ast.FunctionDef, skip_self: bool) -> tuple[list[str], bool]:
    """A function's keyword-passable parameter names and whether it takes **kwargs."""
    args = function.args
    positional = [arg.arg for arg in [*args.posonlyargs, *args.args]][1 if skip_self else 0 :]
    keyword = [arg.arg for arg in args.kwonlyargs]
    return [
        name for name in positional if name not in {a.arg for a in args.posonlyargs}
    ] + keyword, args.kwarg is not None


def _class_parameters(module: str, node: ast.ClassDef, depth: int) -> list[str] | None:
    init = next(
        (item for item in node.body if isinstance(item, ast.FunctionDef) and item.name == "__init__"), None
    )
    names: list[str] = []
    if init is not None:
        names, open_ended = _arguments(init, skip_self=True)
        if not open_ended:
            return names
    for base in node.bases:
        if not isinstance(base, ast.Name):
            if init is None:
                continue  # nn.Module and the like: an __init__ of their own that takes no config keys
            return None  # **kwargs forwarded to a base that is not ours
        found = _definition(module, base.id)
        if found is None or not isinstance(found[1], ast.ClassDef) or depth > DEPTH:
            return None
        inherited = _class_parameters(found[0], found[1], depth + 1)
        if inherited is None:
            return None
        names += [name for name in inherited if name not in names]
    if init is None and any(isinstance(d, (ast.Name, ast.Attribute, ast.Call)) for d in node.decorator_list):
        return None  # a dataclass or the like: its __init__ is generated
    return names


def parameters(target: str) -> tuple[str, ...] | None:
    """The keys a config node with this `_target_` may have besides `_target_` (see the module
    docstring); None when any key may be right."""
    module, _, name = target.rpartition(".")
    found = _definition(module, name) if module else None
    if found is None:
        return None
    where, node = found
    if isinstance(node, ast.FunctionDef):
        names, open_ended = _arguments(node, skip_self=False)
        return None if open_ended else tuple(names)
    inherited = _class_parameters(where, node, 0) if isinstance(node, ast.ClassDef) else None
    return None if inherited is None else tuple(inherited)
