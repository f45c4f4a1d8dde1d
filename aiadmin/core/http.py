"""Flask glue for the function entry points: errors to responses in one place, body parsing, caller checks."""

from __future__ import annotations

import functools
import html
import json
import logging
import re
from collections.abc import Callable
from typing import Any

import flask
from google.api_core import exceptions as gexc

from aiadmin.core.caller_auth import verify_caller
from aiadmin.core.errors import (
    AppError,
    MethodNotAllowed,
    PayloadTooLarge,
    TooManyRequests,
    UnsupportedMediaType,
    UriTooLong,
)
from aiadmin.core.logs import bind_trace
from aiadmin.core.settings import get_settings
from aiadmin.core.validation import MAX_BODY_BYTES, M, parse_json_object, validate

log = logging.getLogger("aiadmin.http")

Handler = Callable[[flask.Request], Any]

MAX_QUERY_BYTES = 8 * 1024  # a signed YCLIENTS link with a few branches is well under 2 KiB
# Bodies sent as forms are not ours to guess at; no type or any other is read as JSON (YCLIENTS sends JSON).
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _check_request_line(request: flask.Request, methods: tuple[str, ...]) -> None:
    if request.method not in methods:
        raise MethodNotAllowed(f"{request.method} is not allowed here; use {', '.join(methods)}")
    if len(request.query_string) > MAX_QUERY_BYTES:
        raise UriTooLong(f"the query string is longer than {MAX_QUERY_BYTES} bytes")


def json_body(request: flask.Request) -> dict[str, Any]:
    """A public endpoint's JSON object body: refused (4xx, saying why) before anything is stored."""
    if request.mimetype in FORM_TYPES:
        raise UnsupportedMediaType(f"send the body as application/json, not {request.mimetype}")
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"body is larger than {MAX_BODY_BYTES} bytes", code="body_too_large")
    return parse_json_object(request.get_data())


_SECRET_IN_PATH = re.compile(r"^(/webhook/yclients/[^/]+/)[^/]+")


def loggable_path(path: str) -> str:
    """A request path fit for logs: a data-webhook URL's last segment is a credential, so it is cut."""
    return _SECRET_IN_PATH.sub(r"\1…", path)


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
        extra={"status": exc.status, "code": exc.code, "path": loggable_path(request.path)},
    )


def _retry_after(exc: AppError) -> dict[str, str] | None:
    if isinstance(exc, TooManyRequests):
        return {"Retry-After": str(exc.retry_after_s)}
    return {"Retry-After": "5"} if exc.status == 503 else None


def json_endpoint(*methods: str) -> Callable[[Handler], Handler]:
    """Method check, AppError -> JSON error, anything else -> 500 without a stack trace to the caller."""

    def wrap(fn: Handler) -> Handler:
        @functools.wraps(fn)
        def inner(request: flask.Request):
            bind_trace(request.headers.get("X-Cloud-Trace-Context"), get_settings().google_cloud_project)
            try:
                _check_request_line(request, methods)
                return fn(request)
            except AppError as exc:
                _log_error(exc, request)
                return json_response(error_body(exc), exc.status, _retry_after(exc))
            except gexc.GoogleAPICallError:
                log.exception("storage call failed", extra={"path": loggable_path(request.path)})
                body = {
                    "success": False,
                    "error": {"code": "storage_unavailable", "message": "storage is unavailable, try again"},
                }
                return json_response(body, 503, {"Retry-After": "5"})
            except Exception:
                log.exception("unhandled error", extra={"path": loggable_path(request.path)})
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
    414: (
        "Слишком длинная ссылка",
        "Ссылка длиннее, чем бывают ссылки YCLIENTS. Откройте AI Admin в маркетплейсе YCLIENTS и нажмите "
        "«Подключить» ещё раз.",
    ),
    503: ("Сервис временно недоступен", "Попробуйте ещё раз через минуту."),
    429: ("Слишком много попыток", "Подождите минуту и откройте AI Admin из YCLIENTS ещё раз."),
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
            _check_request_line(request, ("GET", "HEAD"))
            return fn(request)
        except AppError as exc:
            _log_error(exc, request)
            page = error_page(exc)
            page.headers.update(_retry_after(exc) or {})
            return page
        except Exception:
            log.exception("unhandled error", extra={"path": loggable_path(request.path)})
            return error_page(AppError("internal error"))

    return inner


def task_payload(request: flask.Request, model: type[M]) -> M:
    """A task handler's first step: the caller is ours, the body is the task's payload."""
    require_task_caller(request)
    return validate(model, json_body(request))


def require_task_caller(request: flask.Request) -> None:
    """Task and scheduler handlers: the caller is our invoker account (OIDC) when deployed, the local dispatcher
    (shared secret) locally. See aiadmin.core.caller_auth."""
    settings = get_settings()
    verify_caller(request.headers, settings, settings.tasks_target_base_url)
