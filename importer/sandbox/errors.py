"""The API's error envelope and the few answers the sandbox gives in more than one place.

Codes and statuses come from ``importer.spec.contract``: documented codes wherever one fits,
inferred ones (listed there) only where none does.
"""

from __future__ import annotations

from importer.spec import contract as c


class ApiError(Exception):
    """An error answer in the API's envelope."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.errors = errors or []
        self.headers = headers or {}


def envelope(code: str, message: str, errors: list[dict[str, str]] | None = None) -> dict:
    return {c.ENVELOPE: {c.ERROR_CODE: code, c.MESSAGE: message, c.ERRORS: errors or []}}


def item(field: str, message: str) -> dict[str, str]:
    """An ``Errors`` item: the documented ``FieldName``, plus a ``Message`` for people."""
    return {c.FIELD_NAME: field, c.MESSAGE: message}


def field_error(code: str, items: list[dict[str, str]]) -> ApiError:
    """400 for request fields: ``PARAMETER_REQUIRED``, ``INVALID_PARAMETER`` or a conflict."""
    names = ", ".join(i[c.FIELD_NAME] for i in items)
    lead = {
        c.PARAMETER_REQUIRED: "Required parameters are missing",
        c.CONFLICTING_PARAMETERS: "Parameters conflict",
    }.get(code, "Invalid parameters")
    message = items[0][c.MESSAGE] if len(items) == 1 else f"{lead}: {names}."
    return ApiError(c.BAD_REQUEST, code, message, items)


def conflict(field: str, message: str) -> ApiError:
    return field_error(c.CONFLICTING_PARAMETERS, [item(field, message)])


def forbidden(message: str) -> ApiError:
    return ApiError(c.FORBIDDEN_STATUS, c.FORBIDDEN, message)


def no_permission(what: str) -> ApiError:
    return forbidden(f"You do not have permission to use {what}.")


def not_owned(sid: str) -> ApiError:
    return forbidden(f"Number block '{sid}' is not owned by this account.")


def bad_body(message: str) -> ApiError:
    """A body that is not a JSON object: no field to name, so no ``Errors`` item."""
    return ApiError(c.BAD_REQUEST, c.INVALID_PARAMETER, message)
