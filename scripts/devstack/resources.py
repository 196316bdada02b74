#!/usr/bin/env python3
"""Creates deploy/template.yaml's resources for the local stack and writes what the runner needs (stack.json).

- Through moto's CloudFormation: the buckets, the three DynamoDB tables (keys, indexes, as the template has
  them), the ingestion queue (visibility timeout, redrive to the dead-letter queue after maxReceiveCount) and
  the dead-letter queue.
- Otherwise, from the template's own properties: the raw bucket's notification to the queue (moto's
  CloudFormation does not apply NotificationConfiguration), the Rekognition collection (on
  `facecluster rekognition-server`), and the functions, the event source mapping and the HTTP API's routes,
  which the local runner plays (runner.py). IAM roles and policies, log groups, the schedule and permissions
  are not created: nothing enforces them on this machine.

usage: resources.py TEMPLATE MOTO_URL REKOGNITION_URL OUT.json [--name-prefix facecluster] [--visibility-timeout S]
"""
import argparse
import json
import sys

import boto3

import template as cfn

SUPPORTED = {"AWS::S3::Bucket", "AWS::DynamoDB::Table", "AWS::SQS::Queue"}
CREDENTIALS = dict(region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("template")
    parser.add_argument("moto")
    parser.add_argument("rekognition")
    parser.add_argument("out")
    parser.add_argument("--stack-name", default="facecluster")
    parser.add_argument("--name-prefix", default="facecluster")
    parser.add_argument("--visibility-timeout", type=int, default=None)
    args = parser.parse_args()

    template = cfn.load(args.template)
    parameters = {name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()}
    parameters["NamePrefix"] = args.name_prefix
    subset = {
        "AWSTemplateFormatVersion": template.get("AWSTemplateFormatVersion", "2010-09-09"),
        "Parameters": template["Parameters"],
        "Resources": {},
    }
    for name, resource in template["Resources"].items():
        if resource["Type"] not in SUPPORTED:
            continue
        resource = json.loads(json.dumps(resource))
        resource.pop("DependsOn", None)          # on resources left out (the queue policy)
        resource.get("Properties", {}).pop("NotificationConfiguration", None)   # applied below
        subset["Resources"][name] = resource

    kw = dict(endpoint_url=args.moto, **CREDENTIALS)
    cloudformation = boto3.client("cloudformation", **kw)
    cloudformation.create_stack(
        StackName=args.stack_name, TemplateBody=json.dumps(subset),
        Parameters=[{"ParameterKey": "NamePrefix", "ParameterValue": args.name_prefix}])
    stack = cloudformation.describe_stacks(StackName=args.stack_name)["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        sys.exit(f"moto's CloudFormation could not create the stack: {stack['StackStatus']} {stack.get('StackStatusReason')}")
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"]
                for r in cloudformation.describe_stack_resources(StackName=args.stack_name)["StackResources"] if "LogicalResourceId" in r}

    sqs = boto3.client("sqs", **kw)
    queue_url = {name: sqs.get_queue_url(QueueName=physical[name].rsplit("/", 1)[-1])["QueueUrl"]
                 for name, r in template["Resources"].items() if r["Type"] == "AWS::SQS::Queue"}
    queue_arn = {name: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
                 for name, url in queue_url.items()}
    if args.visibility_timeout:
        for url in queue_url.values():
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": str(args.visibility_timeout)})

    # The raw bucket's notification, from the template's property.
    s3 = boto3.client("s3", **kw)
    for name, resource in template["Resources"].items():
        notification = resource.get("Properties", {}).get("NotificationConfiguration") if resource["Type"] == "AWS::S3::Bucket" else None
        if not notification:
            continue
        configurations = []
        for queue in notification.get("QueueConfigurations", []):
            rules = queue.get("Filter", {}).get("S3Key", {}).get("Rules", [])
            configurations.append({
                "QueueArn": queue_arn[queue["Queue"]["Fn::GetAtt"][0]], "Events": [queue["Event"]],
                "Filter": {"Key": {"FilterRules": [{"Name": r["Name"], "Value": r["Value"]} for r in rules]}},
            })
        s3.put_bucket_notification_configuration(Bucket=physical[name], NotificationConfiguration={"QueueConfigurations": configurations})

    # The collection, on the local Rekognition endpoint.
    collections = {name: parameters[r["Properties"]["CollectionId"]["Ref"]]
                   for name, r in template["Resources"].items() if r["Type"] == "AWS::Rekognition::Collection"}
    rekognition = boto3.client("rekognition", endpoint_url=args.rekognition, **CREDENTIALS)
    for collection in collections.values():
        try:
            rekognition.create_collection(CollectionId=collection)
        except rekognition.exceptions.ResourceAlreadyExistsException:
            pass

    def resolve(value):
        if isinstance(value, dict) and "Ref" in value:
            ref = value["Ref"]
            if ref in parameters:
                return parameters[ref]
            if ref in collections:
                return collections[ref]
            if ref in queue_url:
                return queue_url[ref]
            return physical[ref]
        if isinstance(value, dict) and "Fn::GetAtt" in value and value["Fn::GetAtt"][1] == "Arn":
            return queue_arn[value["Fn::GetAtt"][0]]
        if isinstance(value, (str, int, float)):
            return str(value)
        raise SystemExit(f"resources.py cannot resolve {value} for the local stack")

    functions = {}
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        properties = resource["Properties"]
        functions[name] = {
            "handler": properties["Handler"], "timeout": int(properties.get("Timeout", 3)),
            "memory": int(properties.get("MemorySize", 128)),
            "environment": {key: resolve(value) for key, value in properties.get("Environment", {}).get("Variables", {}).items()},
        }
    mappings = []
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::Lambda::EventSourceMapping":
            continue
        properties = resource["Properties"]
        mappings.append({
            "function": properties["FunctionName"]["Ref"], "queueUrl": queue_url[properties["EventSourceArn"]["Fn::GetAtt"][0]],
            "queueArn": resolve(properties["EventSourceArn"]), "batchSize": int(properties.get("BatchSize", 10)),
            "reportBatchItemFailures": "ReportBatchItemFailures" in properties.get("FunctionResponseTypes", []),
            "maximumConcurrency": int(properties.get("ScalingConfig", {}).get("MaximumConcurrency", 1000)),
        })
    integration_function = None
    routes = []
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::ApiGatewayV2::Integration":
            integration_function = resource["Properties"]["IntegrationUri"]["Fn::GetAtt"][0]
        if resource["Type"] == "AWS::ApiGatewayV2::Route":
            routes.append(resource["Properties"]["RouteKey"])
    dead_letter = [name for name, r in template["Resources"].items()
                   if r["Type"] == "AWS::SQS::Queue" and any(r2.get("Properties", {}).get("RedrivePolicy", {}).get("deadLetterTargetArn", {}).get("Fn::GetAtt", [None])[0] == name
                                                           for r2 in template["Resources"].values())]
    redrive = next(r["Properties"]["RedrivePolicy"] for r in template["Resources"].values() if r.get("Properties", {}).get("RedrivePolicy"))
    stack = {
        "rawBucket": physical["RawBucket"], "processedBucket": physical["ProcessedBucket"],
        "collections": list(collections.values()), "functions": functions, "eventSourceMappings": mappings,
        "api": {"function": integration_function, "routes": sorted(routes)},
        "deadLetterQueueUrl": queue_url[dead_letter[0]], "maxReceiveCount": int(redrive["maxReceiveCount"]),
        "tables": sorted(physical[n] for n, r in template["Resources"].items() if r["Type"] == "AWS::DynamoDB::Table"),
        "createdThroughCloudFormation": sorted(subset["Resources"]),
    }
    with open(args.out, "w") as file:
        json.dump(stack, file, indent=1)


if __name__ == "__main__":
    main()
