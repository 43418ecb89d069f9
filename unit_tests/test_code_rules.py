"""Static checks of the addon's Python code: no SQL injection, no unexplained sudo().

Pure Python (``ast`` and ``tokenize``), no Odoo: every ``.py`` file of the addon
outside the test folders is read as text.

- ``cr.execute(...)`` never gets a query built by string formatting (f-string,
  ``%``, ``+``, ``.format()``), directly or through a local variable: values go
  as parameters, identifiers through ``odoo.tools.SQL.identifier``.
- ``SQL(...)`` never gets a formatted string as its template either.
- Every ``.sudo()`` call has a comment on its line or the line before, saying why.
"""

import ast
import io
import tokenize
from pathlib import Path

import pytest

ADDON_DIR = Path(__file__).resolve().parent.parent
SKIPPED_DIRS = {"tests", "unit_tests", "scripts", ".venv", ".demo", ".test-logs", ".git"}
SOURCES = sorted(
    path
    for path in ADDON_DIR.rglob("*.py")
    if not SKIPPED_DIRS & set(path.relative_to(ADDON_DIR).parts[:-1])
)


def _is_formatted(node):
    """Tell whether an expression builds a string by formatting or concatenation."""
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        return True
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
    )


def _call_name(node):
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _local_assignments(function):
    """Map the names assigned in a function to the expressions assigned to them."""
    assigned = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, []).append(node.value)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            assigned.setdefault(node.target.id, []).append(node)  # query += ...: concatenation
    return assigned


def sql_injection_risks(source, filename="<string>"):
    """Return ``[(line, message)]`` for the queries built by formatting in ``source``."""
    tree = ast.parse(source, filename)
    problems = []
    functions = [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    scopes = functions or [tree]
    seen = set()
    for scope in [tree, *scopes]:
        assigned = _local_assignments(scope) if scope is not tree else {}
        for node in ast.walk(scope):
            if not isinstance(node, ast.Call) or not node.args or id(node) in seen:
                continue
            name = _call_name(node)
            if name not in ("execute", "SQL"):
                continue
            query = node.args[0]
            if _is_formatted(query):
                seen.add(id(node))
                problems.append((node.lineno, f"{name}() gets a formatted string"))
            elif name == "execute" and isinstance(query, ast.Name):
                sources = assigned.get(query.id, [])
                if any(isinstance(value, ast.AugAssign) or _is_formatted(value) for value in sources):
                    seen.add(id(node))
                    problems.append((node.lineno, f"execute() gets {query.id!r}, built by formatting"))
    return problems


def unexplained_sudo(source):
    """Return the lines calling ``.sudo()`` without a comment on them or the line before."""
    tree = ast.parse(source)
    comment_lines = {
        token.start[0]
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
    }
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "sudo":
            line = node.func.end_lineno  # where ".sudo" is written
            if line not in comment_lines and line - 1 not in comment_lines:
                lines.add(line)
    return sorted(lines)


def _source_id(path):
    return str(path.relative_to(ADDON_DIR))


def test_sources_found():
    """The checks see the models (a wrong path would make them pass vacuously)."""
    names = {_source_id(path) for path in SOURCES}
    assert "models/res_partner.py" in names
    assert not any(name.startswith(("tests/", "unit_tests/")) for name in names)


@pytest.mark.parametrize("path", SOURCES, ids=_source_id)
def test_no_formatted_sql(path):
    """Queries take their values as parameters, never formatted into the string."""
    assert sql_injection_risks(path.read_text(encoding="utf-8"), str(path)) == []


@pytest.mark.parametrize("path", SOURCES, ids=_source_id)
def test_every_sudo_is_explained(path):
    """Every sudo() has a comment saying why, on its line or the line before."""
    assert unexplained_sudo(path.read_text(encoding="utf-8")) == []


# ---- the checkers themselves ----


@pytest.mark.parametrize(
    "code",
    [
        'def f(cr, t):\n    cr.execute(f"SELECT * FROM {t}")\n',
        'def f(cr, t):\n    cr.execute("SELECT * FROM %s" % t)\n',
        'def f(cr, t):\n    cr.execute("SELECT * FROM " + t)\n',
        'def f(cr, t):\n    cr.execute("SELECT * FROM {}".format(t))\n',
        'def f(self, t):\n    self.env.cr.execute(SQL(f"SELECT * FROM {t}"))\n',
        'def f(cr, t):\n    query = f"SELECT * FROM {t}"\n    cr.execute(query)\n',
        'def f(cr, t):\n    query = "SELECT * FROM x"\n    query += t\n    cr.execute(query)\n',
    ],
)
def test_sql_checker_catches_formatting(code):
    assert sql_injection_risks(code)


@pytest.mark.parametrize(
    "code",
    [
        'def f(cr, v):\n    cr.execute("SELECT * FROM x WHERE id = %s", [v])\n',
        'def f(cr, v):\n    cr.execute(SQL("SELECT * FROM x WHERE id = %s", v))\n',
        'def f(cr, t):\n    cr.execute(SQL("SELECT * FROM %s", SQL.identifier(t)))\n',
        'def f(cr, v):\n    query = SQL("SELECT %(v)s", v=v)\n    cr.execute(query)\n',
    ],
)
def test_sql_checker_accepts_parameters(code):
    assert sql_injection_risks(code) == []


def test_sudo_checker():
    code = (
        "def f(self):\n"
        "    a = self.sudo()  # why\n"
        "    # why, on the line before\n"
        "    b = self.env['x'].sudo().search([])\n"
        "    c = self.sudo()\n"
        "    d = (\n"
        "        self.env['y']\n"
        "        .sudo()\n"
        "    )\n"
    )
    assert unexplained_sudo(code) == [5, 8]
