"""Checks Docs/openapi.yaml against what the API handler serves.

stdin: {"spec": path, "routes": [[METHOD, "/path/{param}"], ...],
        "exchanges": [{"method": M, "route": "/path/{param}", "status": 200, "body": "<json or empty>"}, ...]}
stdout: a JSON list of problems (empty when the spec is valid, documents exactly the served routes, and every
exchange's status is documented for its operation with a body matching the documented schema).
"""
import json
import sys

import yaml
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate as validate_spec
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

request = json.load(sys.stdin)
problems = []
with open(request["spec"]) as handle:
    spec = yaml.safe_load(handle)
try:
    validate_spec(spec)
except Exception as error:  # noqa: BLE001 - report any validator failure as a problem
    problems.append(f"spec invalid: {error}")

documented = {(method.upper(), path) for path, item in spec["paths"].items()
              for method in item if method in ("get", "put", "post", "patch", "delete")}
served = {(method, path) for method, path in request["routes"]}
for missing in sorted(served - documented):
    problems.append(f"served but not documented: {missing}")
for extra in sorted(documented - served):
    problems.append(f"documented but not served: {extra}")

registry = Registry().with_resource("urn:spec", Resource.from_contents(spec, default_specification=DRAFT202012))


def resolve(node):
    while isinstance(node, dict) and "$ref" in node:
        target = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


for exchange in request["exchanges"]:
    label = f'{exchange["method"]} {exchange["route"]} → {exchange["status"]}'
    operation = spec["paths"].get(exchange["route"], {}).get(exchange["method"].lower())
    if operation is None:
        problems.append(f"{label}: no such operation in the spec")
        continue
    response = operation["responses"].get(str(exchange["status"]))
    if response is None:
        problems.append(f"{label}: status not documented")
        continue
    response = resolve(response)
    content = response.get("content", {}).get("application/json")
    body = exchange.get("body") or ""
    if content is None:
        if body:
            problems.append(f"{label}: documented without a body, answered {body[:80]}")
        continue
    schema = {"$ref": "urn:spec" + content["schema"]["$ref"]} if "$ref" in content["schema"] else content["schema"]
    try:
        OAS31Validator(schema, registry=registry).validate(json.loads(body))
    except ValidationError as error:
        problems.append(f"{label}: {error.message} at {list(error.absolute_path)}")
    except json.JSONDecodeError:
        problems.append(f"{label}: body is not JSON: {body[:80]}")

json.dump(problems, sys.stdout)
