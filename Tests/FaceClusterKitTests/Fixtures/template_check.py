"""Lints deploy/template.yaml with cfn-lint and reports what the Swift side must agree with.

stdin: {"template": path}
stdout: {"problems": [cfn-lint findings], "routes": ["GET /people", ...],
         "environment": {"<function logical id>": ["VAR", ...]}, "handlers": {"<function logical id>": "api"}}
"""
import json
import sys
from pathlib import Path

from cfnlint.api import lint_file
from cfnlint.decode import decode

request = json.load(sys.stdin)
path = request["template"]
# The template's own cfn-lint settings (Metadata) apply, as on the command line.
problems = [str(match) for match in lint_file(Path(path))]

template, errors = decode(path)
problems += [str(error) for error in errors or []]
resources = (template or {}).get("Resources", {})
routes = sorted(resource["Properties"]["RouteKey"] for resource in resources.values() if resource["Type"] == "AWS::ApiGatewayV2::Route")
environment, handlers = {}, {}
for name, resource in resources.items():
    if resource["Type"] == "AWS::Lambda::Function":
        properties = resource["Properties"]
        environment[name] = sorted(properties.get("Environment", {}).get("Variables", {}).keys())
        handlers[name] = properties.get("Handler")
timing = {
    "visibilityTimeout": resources.get("IngestQueue", {}).get("Properties", {}).get("VisibilityTimeout"),
    "functionTimeout": resources.get("IngestFunction", {}).get("Properties", {}).get("Timeout"),
}
json.dump({"problems": problems, "routes": routes, "environment": environment, "handlers": handlers, "ingestTiming": timing}, sys.stdout)
