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

from excolor.targets import definition, within

PACKAGE = "excolor"
DEPTH = 8  # base classes followed at most this deep


def _definition(module: str, name: str) -> tuple[str, ast.AST] | None:
    """The class or function `name` of `module` (re-exports followed, `excolor.targets.definition`)
    when our own package defines it; None otherwise."""
    found = definition(f"{module}.{name}")
    return found if found is not None and within(found[0], (PACKAGE,)) else None


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
    found = _definition(module, name) if module and within(module, (PACKAGE,)) else None
    if found is None:
        return None
    where, node = found
    if isinstance(node, ast.FunctionDef):
        names, open_ended = _arguments(node, skip_self=False)
        return None if open_ended else tuple(names)
    inherited = _class_parameters(where, node, 0) if isinstance(node, ast.ClassDef) else None
    return None if inherited is None else tuple(inherited)
