"""Only the unit of work commits or rolls back; views and API handlers never touch the session's transaction, and
a view that catches a refusal runs the service in a savepoint. Every view and command is wrapped."""
import ast
from pathlib import Path

import pytest

MARKET = Path(__file__).resolve().parents[2] / "market"
UNIT_OF_WORK = MARKET / "unit_of_work.py"
DOMAIN_ERRORS = {"DomainError", "ValidationError", "RuleViolationError", "InvalidStateError", "NotFoundError",
                 "PermissionDeniedError", "FORM_ERRORS"}


def market_modules() -> list[Path]:
    """Every module of the application, without the Alembic migrations."""
    return [path for path in sorted(MARKET.rglob("*.py")) if "migrations" not in path.relative_to(MARKET).parts]


def is_view_or_command_module(path: Path) -> bool:
    """Pages, JSON API handlers and `flask` commands (modules that declare routes or commands): what the unit of
    work wraps."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    decorators = [ast.unparse(d) for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)
                  for d in node.decorator_list]
    return any(d.startswith(("bp.route", "bp.get", "bp.post", "bp.put", "bp.patch", "bp.delete")) or "command(" in d
               for d in decorators)


def method_calls(tree: ast.AST, names: set[str]) -> list[tuple[int, str]]:
    """(line, name) of every call of a method with one of the names."""
    return [(node.lineno, node.func.attr) for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in names]


def caught_names(handler: ast.ExceptHandler) -> set[str]:
    """The exception names an except clause catches."""
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return {node.id if isinstance(node, ast.Name) else getattr(node, "attr", "") for node in types if node is not None}


def runs_in_savepoint(body: list[ast.stmt]) -> bool:
    """Whether a try body is one `with savepoint(...)` block."""
    return (len(body) == 1 and isinstance(body[0], ast.With)
            and any("savepoint" in ast.unparse(item.context_expr) for item in body[0].items))


def re_raises(handler: ast.ExceptHandler) -> bool:
    """Whether an except clause ends by raising (the refusal still reaches the unit of work, which rolls back)."""
    return bool(handler.body) and isinstance(handler.body[-1], ast.Raise)


def swallowed_refusals(tree: ast.AST) -> list[int]:
    """Lines of try statements that catch a domain refusal, go on, and did not run the service in a savepoint."""
    return [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Try)
            and any(caught_names(h) & DOMAIN_ERRORS and not re_raises(h) for h in node.handlers)
            and not runs_in_savepoint(node.body)]


def test_nothing_but_the_unit_of_work_commits_or_rolls_back():
    found = []
    for path in market_modules():
        relative = path.relative_to(MARKET)
        if path == UNIT_OF_WORK:
            continue
        calls = method_calls(ast.parse(path.read_text(encoding="utf-8")), {"commit", "rollback"})
        found += [f"{relative}:{line} {name}()" for line, name in calls]
    assert found == []


def test_views_api_handlers_and_commands_leave_the_session_to_the_unit_of_work():
    found = []
    for path in filter(is_view_or_command_module, market_modules()):
        relative = path.relative_to(MARKET)
        calls = method_calls(ast.parse(path.read_text(encoding="utf-8")), {"commit", "rollback", "flush"})
        found += [f"{relative}:{line} {name}()" for line, name in calls if not _is_stream_flush(path, line)]
    assert found == []


def test_the_scan_finds_the_route_and_command_modules():
    scanned = {str(path.relative_to(MARKET)) for path in filter(is_view_or_command_module, market_modules())}
    assert {"deals/views.py", "awards/views.py", "api/money.py", "api/deals.py", "cli.py",
            "awards/commands.py", "preorders/views.py"} <= scanned
    assert "api/idempotency.py" not in scanned and "deals/services.py" not in scanned


def _is_stream_flush(path: Path, line: int) -> bool:
    """`sys.stdout.flush()` in a command is not the database session."""
    return "stdout.flush()" in path.read_text(encoding="utf-8").splitlines()[line - 1]


def test_views_that_show_a_refusal_ran_the_service_in_a_savepoint():
    found = []
    for path in filter(is_view_or_command_module, market_modules()):
        relative = path.relative_to(MARKET)
        found += [f"{relative}:{line}" for line in swallowed_refusals(ast.parse(path.read_text(encoding="utf-8")))]
    assert found == []


@pytest.mark.parametrize("source, expected", [
    ("try:\n    do()\nexcept ValidationError as e:\n    show(e)\n", [1]),
    ("try:\n    do()\nexcept (NotFoundError, KeyError):\n    pass\n", [1]),
    ("try:\n    with savepoint():\n        do()\nexcept DomainError as e:\n    show(e)\n", []),
    ("try:\n    do()\nexcept DomainError as e:\n    raise Other() from e\n", []),
    ("try:\n    do()\nexcept ValueError:\n    pass\n", []),
])
def test_the_savepoint_check_tells_a_swallowed_refusal_from_a_safe_one(source, expected):
    assert swallowed_refusals(ast.parse(source)) == expected


def test_the_commit_check_sees_commits_and_rollbacks():
    tree = ast.parse("db.session.commit()\nsession.rollback()\nsession.flush()\n")
    assert method_calls(tree, {"commit", "rollback"}) == [(1, "commit"), (2, "rollback")]


def test_every_view_function_and_command_runs_in_the_unit_of_work(app):
    unwrapped = [endpoint for endpoint, view in app.view_functions.items() if not getattr(view, "in_unit_of_work", False)]
    assert unwrapped == []
    commands = []

    def leaves(group, prefix=""):
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                leaves(command, prefix + name + " ")
            else:
                commands.append((prefix + name, getattr(command.callback, "in_unit_of_work", False)))

    leaves(app.cli)
    assert commands and all(wrapped for _name, wrapped in commands), commands
