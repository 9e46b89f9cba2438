"""The rooms of attnbook import downwards only: read from each module's source, nothing imported.

    models                          level 4
    hard    local    channel  maps  level 3   (each on its own: no import between them)
    core                            level 2
    book    data     measure        level 1   (each on its own: no import between them)
    _checks                         level 0

A module may import from its own room and from any room on a lower level, never from a room on
its own level or above. ``attnbook/__init__.py`` sits above all of them. Every import counts:
at module level, inside a function, under ``if TYPE_CHECKING:``, relative or absolute.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from book import ROOT

PACKAGE = ROOT / "code" / "src" / "attnbook"

LEVELS = {
    "_checks": 0,
    "book": 1, "data": 1, "measure": 1,
    "core": 2,
    "hard": 3, "local": 3, "channel": 3, "maps": 3,
    "models": 4,
}
TOP = "attnbook"  # the package's own __init__ and the names it defines, above every room
LEVEL_OF_TOP = max(LEVELS.values()) + 1


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def room_of(module: str) -> str:
    """``attnbook.local.masks`` -> ``local``, ``attnbook._checks`` -> ``_checks``; ``attnbook`` and a
    top-level name such as ``attnbook.attention`` -> ``attnbook``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LEVELS else TOP


def imported_modules(path: Path) -> set[tuple[str, int]]:
    """The attnbook modules (or names inside them) a file imports, each with the line of the import."""
    name = module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # `from . import local` imports a room although the module part is just "attnbook"
            targets = [f"{target}.{alias.name}" for alias in node.names] if target == TOP else [target]
        else:
            continue
        found |= {(target, node.lineno) for target in targets if target.split(".")[0] == TOP}
    return found


def room_imports() -> dict[tuple[str, str], list[str]]:
    """(importing room, imported room) -> the imports that make that edge, as ``file:line module``."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(PACKAGE.rglob("*.py")):
        source = room_of(module_name(path))
        for target, line in sorted(imported_modules(path)):
            destination = room_of(target)
            if destination != source:
                edges[source, destination].append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}")
    return dict(edges)


def test_every_room_has_a_level():
    rooms = {path.name for path in PACKAGE.iterdir() if (path / "__init__.py").exists()}
    rooms |= {path.stem for path in PACKAGE.glob("*.py") if path.stem != "__init__"}
    assert rooms == set(LEVELS), "a new room needs its place in LEVELS (and in code/README.md's drawing)"


def test_the_parser_sees_the_known_imports():
    edges = room_imports()
    assert ("core", "_checks") in edges
    assert ("models", "channel") in edges
    assert all((TOP, room) in edges for room in LEVELS if room != "_checks")


def test_rooms_import_only_lower_levels():
    level = {**LEVELS, TOP: LEVEL_OF_TOP}
    violations = [
        f"{source} (level {level[source]}) -> {destination} (level {level[destination]}): {where}"
        for (source, destination), imports in room_imports().items() if source != TOP
        for where in imports if level[destination] >= level[source]
    ]
    assert not violations, "imports against the layering:\n" + "\n".join(violations)


def test_no_cycle_between_rooms():
    graph: dict[str, set[str]] = defaultdict(set)
    for source, destination in room_imports():
        graph[source].add(destination)
    state: dict[str, str] = {}
    cycles = []

    def visit(room: str, path: list[str]) -> None:
        state[room] = "open"
        for nxt in sorted(graph[room]):
            if state.get(nxt) == "open":
                cycles.append(" -> ".join(path[path.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[room] = "done"

    for room in sorted(graph):
        if room not in state:
            visit(room, [room])
    assert not cycles, "import cycles between rooms:\n" + "\n".join(cycles)
