"""The API docs page's reading of the OpenAPI schema: operations in order, with their
parameters, request body and answers, and the schemas' fields (descriptions in Japanese)."""

METHODS = ("get", "post", "put", "patch", "delete")


def _ref_name(schema):
    ref = (schema or {}).get("$ref", "")
    return ref.rsplit("/", 1)[-1] if ref else ""


def _type_of(prop):
    if "$ref" in prop:
        return _ref_name(prop)
    if "anyOf" in prop:
        return " | ".join(_type_of(p) for p in prop["anyOf"])
    if prop.get("type") == "array":
        return f"{_type_of(prop.get('items', {}))}[]"
    kind = prop.get("type", "object")
    return f"{kind} ({prop['format']})" if "format" in prop else kind


def docs_context(schema):
    operations = []
    for path, methods in schema.get("paths", {}).items():
        for method in METHODS:
            op = methods.get(method)
            if op is None:
                continue
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            responses = []
            for status, answer in op.get("responses", {}).items():
                content = answer.get("content", {})
                media = next(iter(content), "")
                responses.append(
                    {
                        "status": status,
                        "description": answer.get("description", ""),
                        "media": media,
                        "schema": _ref_name(content.get(media, {}).get("schema")),
                    }
                )
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "id": op.get("operationId", ""),
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "parameters": [
                        {
                            "name": p["name"],
                            "in": p["in"],
                            "type": _type_of(p.get("schema", {})),
                            "required": p.get("required", False),
                        }
                        for p in op.get("parameters", [])
                    ],
                    "body": _ref_name(body.get("schema")),
                    "responses": responses,
                }
            )
    schemas = []
    for name, definition in schema.get("components", {}).get("schemas", {}).items():
        required = set(definition.get("required", []))
        schemas.append(
            {
                "name": name,
                "description": definition.get("description", ""),
                "fields": [
                    {
                        "name": field,
                        "type": _type_of(prop),
                        "required": field in required,
                        "description": prop.get("description", ""),
                    }
                    for field, prop in definition.get("properties", {}).items()
                ],
            }
        )
    return {
        "title": schema["info"]["title"],
        "version": schema["info"]["version"],
        "description": schema["info"].get("description", ""),
        "operations": operations,
        "schemas": schemas,
    }
