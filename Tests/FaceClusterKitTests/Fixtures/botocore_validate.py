#!/usr/bin/env python3
"""Validates request bodies against botocore's Rekognition model (AWS's own shapes): reads a JSON list of
[operation, body-as-string] on stdin, prints a JSON list of problems (empty when every body is valid)."""
import json, sys
import botocore.session
from botocore.validate import ParamValidator

model = botocore.session.get_session().get_service_model("rekognition")
problems = []
for operation, body in json.load(sys.stdin):
    try:
        shape = model.operation_model(operation).input_shape
    except Exception as error:
        problems.append(f"{operation}: unknown operation ({error})")
        continue
    report = ParamValidator().validate(json.loads(body), shape)
    if report.has_errors():
        problems.append(f"{operation}: {report.generate_report()}")
print(json.dumps(problems))
