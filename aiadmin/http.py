"""Flask glue for the function entry points: errors to responses in one place, body parsing, caller checks."""

from __future__ import annotations

import functools
import hmac
import html
import json
import logging
from collections.abc import Callable
from typing import Any

import flask
from google.api_core import exceptions as gexc

from aiadmin.errors import AppError, ConfigurationError, MethodNotAllowed, Unauthorized
from aiadmin.logs import bind_trace
from aiadmin.settings import get_settings
from aiadmin.task_queue import TASK_SECRET_HEADER
from aiadmin.validation import M, parse_json_object, validate

log = logging.getLogger("aiadmin.http")

Handler = Callable[[flask.Request], Any]


def json_response(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None):
    return flask.Response(
        json.dumps(body, ensure_ascii=False, default=str),
        status=status,
        headers=headers or {},
        mimetype="application/json",
    )


def error_body(exc: AppError) -> dict[str, Any]:
    err: dict[str, Any] = {"code": exc.code, "message": exc.message}
    if exc.details:
        err["details"] = exc.details
    return {"success": False, "error": err}


def _log_error(exc: AppError, request: flask.Request) -> None:
    level = logging.ERROR if exc.status >= 500 else logging.WARNING
    log.log(
        level,
        "request failed: %s",
        exc.message,
        extra={"status": exc.status, "code": exc.code, "path": request.path},
    )


def json_endpoint(*methods: str) -> Callable[[Handler], Handler]:
    """Method check, AppError -> JSON error, anything else -> 500 without a stack trace to the caller."""

    def wrap(fn: Handler) -> Handler:
        @functools.wraps(fn)
        def inner(request: flask.Request):
            bind_trace(request.headers.get("X-Cloud-Trace-Context"), get_settings().google_cloud_project)
            try:
                if request.method not in methods:
                    raise MethodNotAllowed(f"{request.method} is not allowed here; use {', '.join(methods)}")
                return fn(request)
            except AppError as exc:
                _log_error(exc, request)
                headers = {"Retry-After": "5"} if exc.status == 503 else None
                return json_response(error_body(exc), exc.status, headers)
            except gexc.GoogleAPICallError:
                log.exception("storage call failed", extra={"path": request.path})
                body = {
                    "success": False,
                    "error": {"code": "storage_unavailable", "message": "storage is unavailable, try again"},
                }
                return json_response(body, 503, {"Retry-After": "5"})
            except Exception:
                log.exception("unhandled error", extra={"path": request.path})
                body = {"success": False, "error": {"code": "internal", "message": "internal error"}}
                return json_response(body, 500)

        return inner

    return wrap


_PAGE = """<!doctype html><html lang="ru"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>AI Admin — {title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#222}}
h1{{font-size:1.4rem}} .code{{color:#888;font-size:.85rem}}</style></head>
<body><h1>{title}</h1><p>{text}</p><p class="code">Код ошибки: {code}</p></body></html>"""

_PAGE_TEXT = {
    400: (
        "Неверная ссылка",
        "В ссылке не хватает данных салона. Откройте AI Admin в маркетплейсе YCLIENTS и нажмите «Подключить» ещё раз.",
    ),
    403: (
        "Ссылка не подтверждена",
        "Ссылка не подписана YCLIENTS или была изменена. Откройте AI Admin "
        "в маркетплейсе YCLIENTS и нажмите «Подключить» ещё раз.",
    ),
    404: (
        "Салон не найден",
        "YCLIENTS не нашёл этот салон. Проверьте, что вы подключаете приложение "
        "из нужного филиала, и попробуйте ещё раз.",
    ),
    502: (
        "YCLIENTS не отвечает",
        "Не удалось получить данные салона из YCLIENTS. Попробуйте ещё раз "
        "через минуту — мы ничего не сохранили наполовину.",
    ),
    503: ("Сервис временно недоступен", "Попробуйте ещё раз через минуту."),
}


def error_page(exc: AppError):
    title, text = _PAGE_TEXT.get(exc.status, ("Ошибка", "Что-то пошло не так. Попробуйте ещё раз."))
    body = _PAGE.format(title=html.escape(title), text=html.escape(text), code=html.escape(exc.code))
    return flask.Response(body, status=exc.status, mimetype="text/html")


def page_endpoint(fn: Handler) -> Handler:
    """For browser-facing GET endpoints: errors become a Russian HTML page with the right status."""

    @functools.wraps(fn)
    def inner(request: flask.Request):
        bind_trace(request.headers.get("X-Cloud-Trace-Context"), get_settings().google_cloud_project)
        try:
            if request.method not in ("GET", "HEAD"):
                raise MethodNotAllowed("use GET")
            return fn(request)
        except AppError as exc:
            _log_error(exc, request)
            return error_page(exc)
        except Exception:
            log.exception("unhandled error", extra={"path": request.path})
            return error_page(AppError("internal error"))

    return inner


def task_payload(request: flask.Request, model: type[M]) -> M:
    """A task handler's first step: the caller is ours, the body is the task's payload."""
    require_task_caller(request)
    return validate(model, parse_json_object(request.get_data()))


def require_task_caller(request: flask.Request) -> None:
    """Task and scheduler handlers. Deployed (dev, prod) they are private functions: Cloud Run checks the OIDC
    token of our invoker account before the request arrives. Locally a shared secret stands in for it."""
    settings = get_settings()
    secret = settings.task_shared_secret.get_secret_value() if settings.task_shared_secret else None
    if secret:
        given = request.headers.get(TASK_SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            raise Unauthorized("task caller not authenticated", code="task_unauthenticated")
    elif settings.env == "local":
        raise ConfigurationError("TASK_SHARED_SECRET must be set when ENV=local")
