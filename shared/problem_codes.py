"""Which problem codes a route can answer, read from the code itself.

The OpenAPI document lists, per operation and status, the `code`s of the problem documents it may
send. A hand-kept list would drift from the code; instead the route's function is read (its source,
parsed) and every function, dependency and class it names in the project is followed, collecting each
``Problem(status, "code", ...)`` (and ``PeerRefusal("code", ...)``, a 422). Codes that come from an
exception (``Problem(422, exc.code, ...)``) are those the exception's class is raised with across its
package, its ``code`` class attribute, or its declared enumeration (AOI and grid refusals).

Over-approximates by design (a code reachable on some path is listed), and says so in
:func:`unresolved` when a construction cannot be read: the unit test keeps that list empty.
"""
from __future__ import annotations

import ast
import builtins
import importlib
import inspect
import pkgutil
import textwrap
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from shared.problems import Problem

PROJECT = ("services.", "shared.")
Codes = dict[int, set[str]]

# Exceptions whose codes are declared as an enumeration where they are defined.


def _aoi_error_codes() -> Codes:
    from shared.geo import errors

    out: Codes = {}
    for code in errors.ERROR_CODES:
        out.setdefault(errors._STATUS.get(code, 422), set()).add(code)
    return out


def _grid_error_codes() -> Codes:
    from shared.grid.errors import GridErrorCode

    return {0: {c.value for c in GridErrorCode}}  # 0: the status is the raising site's


DECLARED: dict[str, Callable[[], Codes]] = {
    "shared.geo.errors.AoiError": _aoi_error_codes,
    "shared.grid.errors.GridError": _grid_error_codes,
}

_unresolved: set[str] = set()


def _in_project(obj: Any) -> bool:
    return (inspect.isfunction(obj) or inspect.isclass(obj)) and str(getattr(obj, "__module__", "")).startswith(
        PROJECT) and obj.__module__ != "shared.problem_codes"


def _qualname(obj: Any) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


@cache
def _tree(fn: Callable[..., Any]) -> ast.AST | None:
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return None


def _resolve(node: ast.AST, scope: dict[str, Any]) -> Any:
    if isinstance(node, ast.Name):
        if node.id in scope:
            return scope[node.id]
        return getattr(builtins, node.id, None)
    if isinstance(node, ast.Attribute):
        base = _resolve(node.value, scope)
        if base is None:
            return None
        try:
            return inspect.getattr_static(base, node.attr, None) if inspect.isclass(base) else getattr(
                base, node.attr, None)
        except Exception:  # noqa: BLE001 - a property or proxy that will not be read statically
            return None
    return None


@cache
def _constructions(cls: type) -> frozenset[str]:
    """The literal codes ``cls`` is raised with anywhere in its top-level package (first argument or
    ``code=``)."""
    top = cls.__module__.split(".")[0]
    sub = cls.__module__.split(".")[1] if top == "services" else None
    package = importlib.import_module(f"{top}.{sub}" if sub else top)
    found: set[str] = set()
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        try:
            module = importlib.import_module(info.name)
            tree = ast.parse(inspect.getsource(module))
        except Exception:  # noqa: BLE001 - a module that cannot be imported here raises nothing we serve
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _resolve(node.func, vars(module)) is cls:
                arg = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "code"), None)
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.add(arg.value)
    return frozenset(found)


def exception_codes(cls: type) -> Codes:
    """The codes an exception class carries; status 0 where the class does not say."""
    for klass in cls.__mro__:
        if _in_project(klass) and _qualname(klass) in DECLARED:
            return DECLARED[_qualname(klass)]()
    attr = inspect.getattr_static(cls, "code", None)
    if isinstance(attr, str) and attr != "tiling_error":
        return {0: {attr}}
    return {0: set(_constructions(cls))}


class _Walk:
    def __init__(self) -> None:
        self.codes: Codes = {}
        self.seen: set[tuple[Any, tuple[tuple[str, Any], ...]]] = set()

    def add(self, status: int, codes: Iterable[str]) -> None:
        self.codes.setdefault(status, set()).update(codes)

    def visit(self, obj: Any, bound: dict[str, Any] | None = None) -> None:
        key = (obj, tuple(sorted((bound or {}).items(), key=repr)))
        if key in self.seen:
            return
        self.seen.add(key)
        if inspect.isclass(obj):
            if issubclass(obj, Problem):
                return  # its constructions are read where they are made
            for member in vars(obj).values():
                member = getattr(member, "__func__", member)
                if inspect.isfunction(member):
                    self.visit(member)
            return
        self._function(obj, bound or {})

    def _function(self, fn: Callable[..., Any], bound: dict[str, Any]) -> None:
        tree = _tree(fn)
        if tree is None:
            return
        scope = dict(getattr(fn, "__globals__", {}))
        if getattr(fn, "__closure__", None):
            scope.update({name: cell.cell_contents for name, cell in
                          zip(fn.__code__.co_freevars, fn.__closure__ or (), strict=False) if _filled(cell)})
        top = tree.body[0] if isinstance(tree, ast.Module) and tree.body else None
        ctx = _Context(top, scope, bound)
        called: set[int] = set()  # a callee followed with its arguments is not followed again bare
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                target = _resolve(node.func, scope)
                if inspect.isclass(target) and issubclass(target, Problem):
                    self._problem(fn, node, target, ctx)
                    called.add(id(node.func))
                    continue
                if _in_project(target) and inspect.isfunction(target):
                    self.visit(target, ctx.bind(target, node))
                    called.add(id(node.func))
                    continue
            if id(node) in called:
                continue
            if isinstance(node, (ast.Name, ast.Attribute)) and isinstance(getattr(node, "ctx", None), ast.Load):
                target = _resolve(node, scope)
                if _in_project(target):
                    self.visit(target)

    def _problem(self, fn: Any, call: ast.Call, cls: type, ctx: _Context) -> None:
        where = f"{_qualname(fn)} line {call.lineno}"
        if cls is Problem:
            status_node = call.args[0] if call.args else None
            code_node = call.args[1] if len(call.args) > 1 else None
        else:  # a Problem subclass: its code first, its status its own (PeerRefusal: 422)
            status_node, code_node = ast.Constant(422), call.args[0] if call.args else None
        codes = ctx.value(code_node)
        statuses = ctx.value(status_node)
        if codes is _FACTORY or statuses is _FACTORY:
            return  # a factory's parameters are bound at its call sites
        if not isinstance(codes, dict):
            _unresolved.add(where)
            return
        if isinstance(statuses, dict) and 0 in statuses:  # constants: every code under each status
            for status in statuses[0]:
                self.add(int(status), {c for names in codes.values() for c in names})
            return
        for status, names in codes.items():  # the status the exception carries with its code
            if status == 0:
                _unresolved.add(where)
            else:
                self.add(status, names)


_FACTORY = object()  # a value that is a parameter of the function, bound by its callers


class _Context:
    """What a function's names stand for while it is read: its parameters as bound by the call being
    followed, constant locals and globals, and exceptions caught or passed in."""

    def __init__(self, top: Any, scope: dict[str, Any], bound: dict[str, Any]) -> None:
        self.top, self.scope, self.bound = top, scope, bound
        self.params = _params(top)
        self.locals = _local_constants(top)

    def value(self, node: ast.AST | None) -> Any:
        """Codes ({status or 0: values}), _FACTORY, or None (unreadable)."""
        if node is None:
            return None
        consts = _constants(node)
        if consts is not None:
            return {0: set(consts)}
        if isinstance(node, ast.Name):
            if node.id in self.bound:
                return self.bound[node.id]
            if node.id in self.params:
                return _FACTORY
            if node.id in self.locals:
                return {0: set(self.locals[node.id])}
            glob = self.scope.get(node.id)
            if isinstance(glob, (str, int)) and not isinstance(glob, bool):
                return {0: {glob}}
            return None
        exc = self._exception(node)
        if exc is None:
            return None
        if isinstance(exc, dict):
            return exc
        prefix = _prefix(node)
        return {status: {prefix + n for n in names} for status, names in exception_codes(exc).items()}

    def _exception(self, node: ast.AST) -> Any:
        """For ``exc.code`` / ``exc.status`` (or an f-string of them): the exception's class, or the codes
        its caller bound it to."""
        name = None
        for sub in ast.walk(node):
            if isinstance(sub, ast.Attribute) and sub.attr in ("code", "status") and isinstance(sub.value, ast.Name):
                name = sub.value.id
                break
        if name is None or self.top is None:
            return None
        if name in self.bound:
            return self.bound[name] if isinstance(self.bound[name], dict) else None
        for sub in ast.walk(self.top):
            if isinstance(sub, ast.ExceptHandler) and sub.name == name and sub.type is not None:
                cls = _resolve(sub.type, self.scope)
                if inspect.isclass(cls):
                    return cls
        if isinstance(self.top, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for arg in (*self.top.args.args, *self.top.args.kwonlyargs):
                if arg.arg == name and arg.annotation is not None:
                    ann = arg.annotation
                    if isinstance(ann, ast.Constant) and isinstance(ann.value, str):
                        ann = ast.parse(ann.value, mode="eval").body
                    cls = _resolve(ann, self.scope)
                    if inspect.isclass(cls):
                        return cls
        return None

    def bind(self, fn: Callable[..., Any], call: ast.Call) -> dict[str, Any]:
        """What the call passes, by the callee's parameter names, where it can be read: constants, codes
        of a caught exception, or an exception constructed in place (``aoi_problem(AoiError(CODE, ...))``)."""
        try:
            names = list(inspect.signature(fn).parameters)
        except (TypeError, ValueError):
            return {}
        given = [(names[i], arg) for i, arg in enumerate(call.args) if i < len(names)]
        given += [(kw.arg, kw.value) for kw in call.keywords if kw.arg]
        out: dict[str, Any] = {}
        for name, arg in given:
            value = self._argument(arg)
            if value is not None and value is not _FACTORY:
                out[name] = _frozen(value)
        return out

    def _argument(self, arg: ast.AST) -> Any:
        if isinstance(arg, ast.Call):
            cls = _resolve(arg.func, self.scope)
            if inspect.isclass(cls) and issubclass(cls, BaseException) and _in_project(cls) and arg.args:
                code = self.value(arg.args[0])
                if isinstance(code, dict) and set(code) == {0}:
                    declared = exception_codes(cls)
                    status_of = {n: s for s, names in declared.items() for n in names}
                    out: Codes = {}
                    for c in code[0]:
                        out.setdefault(status_of.get(c, 0), set()).add(c)
                    return out
            return None
        if isinstance(arg, (ast.Constant, ast.Name, ast.Attribute, ast.JoinedStr, ast.IfExp)):
            if isinstance(arg, ast.Name) and arg.id not in self.bound and not isinstance(
                    self.scope.get(arg.id), (str, int)) and arg.id not in self.locals:
                return None
            return self.value(arg)
        return None


def _frozen(codes: Any) -> Any:
    return _Frozen({k: frozenset(v) for k, v in codes.items()}) if isinstance(codes, dict) else codes


class _Frozen(dict):  # type: ignore[type-arg]
    """Bound codes, hashable so a function followed with other arguments is read again."""

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items(), key=repr)))


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018
        return True
    except ValueError:
        return False


def _params(top: Any) -> list[str]:
    if not isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return []
    a = top.args
    return [p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs)]


def _local_constants(top: Any) -> dict[str, set[Any]]:
    """Locals assigned only constants (``status = 404 if ... else 422``): every value they take."""
    out: dict[str, set[Any]] = {}
    if top is None:
        return out
    for node in ast.walk(top):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            values = _constants(node.value)
            if values is not None:
                out.setdefault(node.targets[0].id, set()).update(values)
    return out


def _constants(node: ast.AST) -> set[Any] | None:
    if isinstance(node, ast.Constant):
        return {node.value}
    if isinstance(node, ast.IfExp):
        a, b = _constants(node.body), _constants(node.orelse)
        return a | b if a is not None and b is not None else None
    return None


def _prefix(node: ast.AST | None) -> str:
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        return str(node.values[0].value)
    return ""


def codes_of(*roots: Any) -> Codes:
    """Every problem code reachable from these functions (a route and its dependencies), by status."""
    walk = _Walk()
    for root in roots:
        walk.visit(root)
    return {status: codes for status, codes in walk.codes.items() if codes}


def unresolved() -> list[str]:
    """Problem constructions met so far whose status or code could not be read."""
    return sorted(_unresolved)


def operation_codes(app: Any) -> dict[tuple[str, str], Codes]:
    """The codes of every documented operation of an app, by (path, METHOD)."""
    from fastapi import routing
    from fastapi.openapi.utils import _get_api_route_for_openapi

    out: dict[tuple[str, str], Codes] = {}
    for context in routing.iter_route_contexts(app.routes):
        route = _get_api_route_for_openapi(context)
        if route is None or not route.include_in_schema:
            continue
        codes = codes_of(route.endpoint, *(d.call for d in route.dependant.dependencies if d.call))
        if route.body_field is not None:  # FastAPI reads the body: bytes it cannot decode are its own 400
            codes.setdefault(400, set()).add("http_error")
        for method in route.methods:
            out[(route.path_format, method)] = codes
    return out
