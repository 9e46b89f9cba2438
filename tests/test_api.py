"""The public surface of attnbook: which names it exports, from where, and that each is documented.

A room is a public subpackage (core, hard, local, channel, maps, models, data, book, measure). Its
``__init__`` re-exports the ``__all__`` of its public modules and nothing else; the top level
exports the rooms, ``__version__`` and a few names that the rooms define. The list of all
these names is committed in tests/api_snapshot.txt, so that a change to it is deliberate.

Documentation rule: every exported function and class has its own docstring, and so has every
public method defined in an exported class's body (``forward`` included). A constant cannot
carry a docstring that Python keeps, so the module's source documents it instead: a ``#:``
comment on the line above its assignment (the comment Sphinx's autodoc reads), ``#:`` after
it on the same line, or a string literal right after the assignment.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import importlib.util
import inspect
import pkgutil
import re
from pathlib import Path
from types import ModuleType

import pytest

import attnbook
from book import ROOT

_spec = importlib.util.spec_from_file_location("api_snapshot", ROOT / "tools" / "api_snapshot.py")
api_snapshot = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(api_snapshot)

ROOMS = api_snapshot.rooms()


def room(name: str) -> ModuleType:
    return importlib.import_module(f"attnbook.{name}")


def room_modules(name: str) -> list[ModuleType]:
    """The public modules of a room (private ones, such as ``channel/_common.py``, left out)."""
    package = room(name)
    return [importlib.import_module(info.name)
            for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}.")
            if not any(part.startswith("_") for part in info.name.split("."))]


MODULES = [module for name in ROOMS for module in room_modules(name)]
MODULE_IDS = [module.__name__.removeprefix("attnbook.") for module in MODULES]


def is_callable_api(value: object) -> bool:
    return inspect.isfunction(value) or inspect.isclass(value)


def definitions(module: ModuleType) -> dict[str, tuple[ast.stmt, ast.stmt | None]]:
    """Names the module's source defines at module level (def, class, assignment), with the
    statement that defines each and the statement after it (None at the end of a block)."""
    found: dict[str, tuple[ast.stmt, ast.stmt | None]] = {}

    def targets(node: ast.expr) -> list[str]:
        if isinstance(node, ast.Name):
            return [node.id]
        if isinstance(node, (ast.Tuple, ast.List)):
            return [name for element in node.elts for name in targets(element)]
        return []

    def visit(body: list[ast.stmt]) -> None:
        for index, node in enumerate(body):
            after = body[index + 1] if index + 1 < len(body) else None
            names: list[str] = []
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names = [node.name]
            elif isinstance(node, ast.Assign):
                names = [name for target in node.targets for name in targets(target)]
            elif isinstance(node, ast.AnnAssign):
                names = targets(node.target)
            elif isinstance(node, ast.If):
                visit(node.body), visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body), visit(node.orelse), visit(node.finalbody)
                for handler in node.handlers:
                    visit(handler.body)
            for name in names:
                found.setdefault(name, (node, after))

    visit(ast.parse(Path(module.__file__).read_text()).body)
    return {name: where for name, where in found.items() if not (name.startswith("__") and name.endswith("__"))}


def own_docstring(value: object) -> str | None:
    """The docstring written for this object, not the one NamedTuple or dataclass make up."""
    doc = value.__dict__.get("__doc__") if inspect.isclass(value) else value.__doc__
    if inspect.isclass(value) and doc and re.fullmatch(rf"{re.escape(value.__name__)}\(.*\)", doc.strip(), re.S):
        return None
    return doc.strip() if doc else None


# --- the snapshot --------------------------------------------------------------------------------

def test_public_names_match_the_committed_snapshot():
    stored, current = api_snapshot.stored_names(), api_snapshot.public_names()
    diff = api_snapshot.difference(stored, current)
    assert not diff, (
        "The public API of attnbook changed (- in tests/api_snapshot.txt only, + in the package only):\n"
        f"{diff}\n"
        "If the change is deliberate, update the snapshot with `.venv/bin/python tools/api_snapshot.py` "
        "and commit tests/api_snapshot.txt with it; otherwise restore the name or its __all__ entry."
    )


def test_snapshot_file_is_sorted_and_has_no_duplicates():
    stored = api_snapshot.stored_names()
    assert stored == sorted(set(stored)), "regenerate it with tools/api_snapshot.py"


# --- which names, from where ---------------------------------------------------------------------

def test_every_room_is_exported_from_the_top_level():
    assert ROOMS == ["book", "channel", "core", "data", "hard", "local", "maps", "measure", "models"]
    for name in ROOMS:
        assert name in attnbook.__all__
        assert getattr(attnbook, name) is room(name)


@pytest.mark.parametrize("module", [attnbook] + [room(name) for name in ROOMS] + MODULES,
                         ids=["attnbook"] + ROOMS + MODULE_IDS)
def test_all_lists_existing_names_once(module):
    names = module.__all__
    assert len(names) == len(set(names)), f"{module.__name__}.__all__ lists a name twice"
    missing = [name for name in names if not hasattr(module, name)]
    assert not missing, f"{module.__name__}.__all__ lists names it does not have: {missing}"


def test_top_level_exports_rooms_version_and_names_the_rooms_define():
    """Besides the rooms and ``__version__``: names a room exports, or the public switches of a
    private module of the package (``set_checks`` from ``attnbook._checks``)."""
    exported_by_rooms = {name: getattr(room(r), name) for r in ROOMS for name in room(r).__all__}
    private = [importlib.import_module(f"attnbook.{info.name}") for info in pkgutil.iter_modules(attnbook.__path__)
               if info.name.startswith("_") and not info.ispkg]
    for name in attnbook.__all__:
        if name == "__version__" or name in ROOMS:
            continue
        value = getattr(attnbook, name)
        if name in exported_by_rooms:
            assert value is exported_by_rooms[name], f"attnbook.{name} is not the room's object"
        else:
            assert any(name in module.__all__ and getattr(module, name) is value for module in private), (
                f"attnbook.{name} is exported by no room (and by no private module's __all__)")


@pytest.mark.parametrize("name", ROOMS)
def test_room_exports_exactly_its_modules_all(name):
    package = room(name)
    from_modules: dict[str, ModuleType] = {}
    for module in room_modules(name):
        assert hasattr(module, "__all__"), f"{module.__name__} has no __all__"
        for exported in module.__all__:
            assert exported not in from_modules, (
                f"{exported} is exported by both {from_modules[exported].__name__} and {module.__name__}")
            from_modules[exported] = module
    assert sorted(package.__all__) == sorted(from_modules), (
        f"attnbook.{name}.__all__ should be the union of its modules' __all__: "
        f"only in the room {sorted(set(package.__all__) - set(from_modules))}, "
        f"only in the modules {sorted(set(from_modules) - set(package.__all__))}")
    for exported, module in from_modules.items():
        assert getattr(package, exported) is getattr(module, exported), f"attnbook.{name}.{exported}"


def imported_from(module: ModuleType) -> dict[str, str]:
    """Names the module imports with ``from X import name`` -> the absolute name of X."""
    package = module.__name__ if module.__file__.endswith("__init__.py") else module.__name__.rpartition(".")[0]
    found = {}
    for node in ast.walk(ast.parse(Path(module.__file__).read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            source = ".".join(base + ([node.module] if node.module else []))
            found |= {alias.asname or alias.name: source for alias in node.names}
    return found


@pytest.mark.parametrize("module", MODULES, ids=MODULE_IDS)
def test_module_exports_only_what_it_defines(module):
    """Each name of a module's ``__all__`` is defined there, so in that room; a module may re-export
    a third-party name (``local.masks`` re-exports FlexAttention's ``and_masks``) but never one
    from another module of attnbook."""
    defined, imported = definitions(module), imported_from(module)
    foreign = {name: imported.get(name, "?") for name in module.__all__ if name not in defined
               and (imported.get(name, "attnbook").split(".")[0] == "attnbook")}
    assert not foreign, f"{module.__name__}.__all__ lists names it does not define: {foreign}"
    for name in module.__all__:
        value = getattr(module, name)
        if is_callable_api(value) and value.__module__.split(".")[0] == "attnbook":
            assert value.__module__ == module.__name__, f"{module.__name__}.{name} comes from {value.__module__}"


@pytest.mark.parametrize("module", MODULES, ids=MODULE_IDS)
def test_every_public_module_level_name_is_in_all(module):
    """A module-level def, class or assignment is either exported or named with a leading ``_``."""
    unlisted = sorted(name for name in definitions(module) if not name.startswith("_") and name not in module.__all__)
    assert not unlisted, (
        f"{module.__name__} defines public names that its __all__ does not list: {unlisted}; "
        "export them (and update the snapshot) or rename them with a leading underscore")


def test_no_name_is_exported_twice_as_different_objects():
    seen: dict[str, tuple[str, object]] = {}
    for where in [attnbook] + [room(name) for name in ROOMS]:
        for name in where.__all__:
            value = getattr(where, name)
            if name in seen:
                first, other = seen[name]
                assert value is other, f"{name} is one object in {first} and another in {where.__name__}"
            else:
                seen[name] = (where.__name__, value)


# --- documentation -------------------------------------------------------------------------------

def exported_objects() -> list[tuple[str, object, ModuleType]]:
    """(where, object, the module that defines it) for attnbook's own exports: the rooms' modules'
    ``__all__`` and the top-level names that no room exports (third-party re-exports left out)."""
    found = [(f"{module.__name__}.{name}", getattr(module, name), module)
             for module in MODULES for name in module.__all__ if name in definitions(module)]
    by_rooms = {name for r in ROOMS for name in room(r).__all__}
    for name in attnbook.__all__:
        value = getattr(attnbook, name)
        if name not in by_rooms and is_callable_api(value):
            found.append((f"attnbook.{name}", value, importlib.import_module(value.__module__)))
    return found


def test_every_exported_function_and_class_has_a_docstring():
    undocumented = [where for where, value, _ in exported_objects()
                    if is_callable_api(value) and not own_docstring(value)]
    assert not undocumented, f"no docstring: {undocumented}"


def test_every_public_method_of_an_exported_class_has_a_docstring():
    undocumented = []
    for where, value, _ in exported_objects():
        if not inspect.isclass(value):
            continue
        for name, member in vars(value).items():
            if name.startswith("_"):
                continue
            function = member.fget if isinstance(member, property) else getattr(member, "__func__", member)
            if inspect.isfunction(function) and not (function.__doc__ or "").strip():
                undocumented.append(f"{where}.{name}")
    assert not undocumented, f"no docstring: {undocumented}"


def test_every_exported_constant_is_documented_in_its_module():
    undocumented = []
    sources: dict[str, list[str]] = {}
    for where, value, module in exported_objects():
        if is_callable_api(value) or inspect.ismodule(value):
            continue
        name = where.rsplit(".", 1)[1]
        node, after = definitions(module)[name]
        lines = sources.setdefault(module.__name__, Path(module.__file__).read_text().splitlines())
        above = lines[node.lineno - 2].lstrip() if node.lineno > 1 else ""
        trailing = "#:" in lines[node.end_lineno - 1]
        docstring = (isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                     and isinstance(after.value.value, str))
        if not (above.startswith("#:") or trailing or docstring):
            undocumented.append(where)
    assert not undocumented, f"document these constants with a `#:` comment above the assignment: {undocumented}"


# --- the version ---------------------------------------------------------------------------------

def test_version_comes_from_pyproject():
    pyproject = (ROOT / "code" / "pyproject.toml").read_text()
    declared = re.search(r'^version = "([^"]+)"$', pyproject, re.M).group(1)
    installed = importlib.metadata.version("attnbook")
    assert installed == declared, (
        f"the installed attnbook is {installed} but code/pyproject.toml says {declared}: "
        "reinstall it with `.venv/bin/python -m pip install --no-deps -e code` (or `make install`)")
    assert attnbook.__version__ == declared
    assert not re.search(r"__version__\s*=\s*['\"]\d+\.\d+", Path(attnbook.__file__).read_text()), \
        "the version is written in one place, code/pyproject.toml"
