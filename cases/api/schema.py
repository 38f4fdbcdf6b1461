"""The errors every API operation can answer with, written into the OpenAPI schema.

drf-spectacular documents the success answer of each view; the refusals come from the
framework around it (authentication, permissions, validation, unknown ids), the same for
every operation, so they are added here in one place rather than on each view.
"""

ERROR = {
    "type": "object",
    "description": "why the request was refused",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
INVALID = {
    "type": "object",
    "description": (
        "what could not be read: per field a list of messages, or `error` (and `parameter`)"
    ),
    "additionalProperties": True,
}
REFUSALS = {
    "400": ("InvalidInput", "the input could not be read or is not allowed"),
    "401": ("Error", "no or bad credentials"),
    "403": ("Error", "the user's role does not allow this"),
    "404": ("Error", "no such object, or not one the user may see"),
    "429": ("Error", "too many failed sign-ins from this address; see Retry-After"),
}
TOKEN_PATH = "/api/v1/auth/token/"


def refusals(path: str, method: str, operation: dict) -> list[str]:
    """The error statuses of one operation."""
    if path == TOKEN_PATH:
        return ["400", "429"]
    statuses = ["401", "403"]
    parameters = operation.get("parameters", [])
    writes = operation.get("requestBody") is not None or method != "get"
    if writes or any(p["in"] == "query" for p in parameters):
        statuses.append("400")
    if any(p["in"] == "path" for p in parameters):
        statuses.append("404")
    return statuses


def document_refusals(result: dict, generator, request, public) -> dict:
    """drf-spectacular post-processing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR)
    schemas.setdefault("InvalidInput", INVALID)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status in refusals(path, method, operation):
                name, description = REFUSALS[status]
                responses.setdefault(
                    status,
                    {
                        "description": description,
                        "content": {
                            "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}
                        },
                    },
                )
    return result
