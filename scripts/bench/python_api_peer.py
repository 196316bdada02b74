"""The reference peer for the Lambda benchmark: the API function as the reference design writes it, in
Python with boto3, behind the same Lambda Runtime API loop AWS's Python runtime runs. It answers
GET /people the same way the Swift function does: one DynamoDB query on the people index, then a presigned
URL for each person's cover thumbnail.

Environment: AWS_LAMBDA_RUNTIME_API, TABLE_PREFIX, PROCESSED_BUCKET, AWS_REGION, credentials and the
AWS_ENDPOINT_URL_* of the local peers (boto3 reads them).
"""
import json
import os
import urllib.request

import boto3  # imported at start-up, as in a Python Lambda

api = f"http://{os.environ['AWS_LAMBDA_RUNTIME_API']}/2018-06-01/runtime/invocation"
dynamodb = boto3.client("dynamodb")
s3 = boto3.client("s3")
table = os.environ["TABLE_PREFIX"] + "-people"
bucket = os.environ["PROCESSED_BUCKET"]


def list_people(event):
    limit = int((event.get("queryStringParameters") or {}).get("limit", "20"))
    result = dynamodb.query(
        TableName=table, IndexName="byPhotoCount", KeyConditionExpression="#l = :l",
        ExpressionAttributeNames={"#l": "listing"}, ExpressionAttributeValues={":l": {"S": "people"}}, Limit=limit)
    people = []
    for item in result.get("Items", []):
        person = json.loads(item["record"]["S"])
        key = person.get("coverThumbnailKey")
        people.append({
            "id": person["id"], "name": person.get("name"), "photoCount": person["photoCount"],
            "faceCount": person["faceCount"],
            "coverThumbnailUrl": s3.generate_presigned_url(
                "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=900) if key else None,
        })
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps({"people": people})}


while True:
    with urllib.request.urlopen(f"{api}/next") as response:
        request_id = response.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(response.read())
    body = json.dumps(list_people(event)).encode()
    urllib.request.urlopen(urllib.request.Request(f"{api}/{request_id}/response", data=body, method="POST")).read()
