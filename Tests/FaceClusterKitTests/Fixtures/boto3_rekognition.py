#!/usr/bin/env python3
"""boto3, AWS's own Python SDK, against `facecluster rekognition-server`: every operation the endpoint offers,
as a boto3 user would call them, with real faces. Every raw answer is checked against botocore's Rekognition
model (the operation's output shape, strictly: unknown members and wrong types are problems; an error's code
must be one the service defines). Prints a JSON object: {"calls": N, "problems": [...], "facts": {...}}.

usage: boto3_rekognition.py ENDPOINT PERSON_A_DIR PERSON_B_DIR [S3_ENDPOINT]
With S3_ENDPOINT (moto, which the endpoint reads S3Object images from), IndexFaces also reads a photo from S3.
"""
import json
import os
import sys

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.validate import ParamValidator

endpoint, person_a, person_b = sys.argv[1], sys.argv[2], sys.argv[3]
s3_endpoint = sys.argv[4] if len(sys.argv) > 4 else None
model = botocore.session.get_session().get_service_model("rekognition")
client = boto3.client(
    "rekognition", endpoint_url=endpoint, region_name="eu-west-1",
    aws_access_key_id="test", aws_secret_access_key="test",
    config=Config(retries={"max_attempts": 1}))
calls, problems, facts = 0, [], {}
# The common errors every JSON service may answer, besides those each operation models.
COMMON = {"ValidationException", "SerializationException", "UnknownOperationException", "InvalidSignatureException",
          "UnrecognizedClientException", "MissingAuthenticationTokenException", "IncompleteSignatureException"}


def check_raw(http_response, operation_name, **_):
    """Validates the raw JSON body, before botocore parses (and forgives) it."""
    global calls
    calls += 1
    operation = model.operation_model(operation_name)
    body = json.loads(http_response.content or b"{}")
    if http_response.status_code >= 300:
        code = body.get("__type", "").split("#")[-1]
        allowed = {shape.name for shape in operation.error_shapes} | COMMON
        if code not in allowed:
            problems.append(f"{operation_name}: error code {code!r} is not one the service defines for it")
        if not body.get("Message"):
            problems.append(f"{operation_name}: error {code} has no Message")
        return
    if operation.output_shape is None:
        if body:
            problems.append(f"{operation_name}: answered {body} where the model has no output")
        return
    report = ParamValidator().validate(body, operation.output_shape)
    if report.has_errors():
        problems.append(f"{operation_name}: {report.generate_report()}")


client.meta.events.register("before-parse.rekognition.*", lambda **kw: None)
client.meta.events.register("after-call.rekognition.*", lambda http_response, model, **kw: check_raw(http_response, model.name))


def expect(condition, message):
    if not condition:
        problems.append(message)


def error_code(call, **kwargs):
    try:
        call(**kwargs)
    except ClientError as error:
        return error.response["Error"]["Code"]
    return None


def photos(folder):
    return [open(os.path.join(folder, name), "rb").read() for name in sorted(os.listdir(folder))[:3]]


a, b = photos(person_a), photos(person_b)
collection = "boto3-check"

# Collections
created = client.create_collection(CollectionId=collection)
expect(created["StatusCode"] == 200 and created["CollectionArn"].endswith(collection), f"CreateCollection: {created}")
expect(error_code(client.create_collection, CollectionId=collection) == "ResourceAlreadyExistsException", "a second CreateCollection must conflict")
expect(error_code(client.create_collection, CollectionId="bad/name") == "ValidationException", "a CollectionId outside its pattern is a ValidationException")
expect(collection in client.list_collections()["CollectionIds"], "ListCollections lists the collection")
expect(error_code(client.describe_collection, CollectionId="nope") == "ResourceNotFoundException", "DescribeCollection of a missing collection")

# Faces: two photos of A and one of B indexed; the third photo of A searches.
records = {}
for name, data in [("a0", a[0]), ("a1", a[1]), ("b0", b[0])]:
    indexed = client.index_faces(CollectionId=collection, Image={"Bytes": data}, ExternalImageId=name, MaxFaces=1)
    expect(len(indexed["FaceRecords"]) == 1, f"IndexFaces {name}: one face expected, got {len(indexed['FaceRecords'])}")
    records[name] = indexed["FaceRecords"][0]["Face"]["FaceId"]
facts["faceModelVersion"] = indexed["FaceModelVersion"]
again = client.index_faces(CollectionId=collection, Image={"Bytes": a[0]}, ExternalImageId="a0", MaxFaces=1)
expect(again["FaceRecords"][0]["Face"]["FaceId"] == records["a0"], "indexing the same photo under the same id again gives the same face")
described = client.describe_collection(CollectionId=collection)
expect(described["FaceCount"] == 3, f"DescribeCollection FaceCount {described['FaceCount']}, expected 3")

# The engine's scale: distance 0.55 is 90 (FaceClusterKit's join threshold); different people score about
# 80, so Rekognition's default threshold of 80 is too low here (README: the local Rekognition endpoint).
matches = client.search_faces(CollectionId=collection, FaceId=records["a0"], FaceMatchThreshold=90)["FaceMatches"]
facts["sameperson"] = [round(m["Similarity"], 1) for m in matches if m["Face"]["FaceId"] == records["a1"]]
expect([m["Face"]["ExternalImageId"] for m in matches] == ["a1"], f"SearchFaces a0 finds a1 only, got {[m['Face'].get('ExternalImageId') for m in matches]}")
by_image = client.search_faces_by_image(CollectionId=collection, Image={"Bytes": a[2]}, FaceMatchThreshold=90)
expect({m["Face"]["ExternalImageId"] for m in by_image["FaceMatches"]} == {"a0", "a1"}, "SearchFacesByImage with A's third photo finds A's two")
all_pairs = client.search_faces(CollectionId=collection, FaceId=records["b0"], FaceMatchThreshold=0)["FaceMatches"]
facts["differentPeople"] = [round(m["Similarity"], 1) for m in all_pairs]
expect(all(m["Similarity"] < 90 for m in all_pairs), "different people are under similarity 90")
expect(error_code(client.search_faces, CollectionId=collection, FaceId="00000000-0000-0000-0000-000000000000") == "InvalidParameterException",
       "SearchFaces with an unknown face")
expect(error_code(client.index_faces, CollectionId=collection, Image={"Bytes": b"not a photo"}) == "InvalidImageFormatException",
       "IndexFaces of bytes that are no image")
detected = client.detect_faces(Image={"Bytes": b[1]})["FaceDetails"]
expect(len(detected) >= 1 and {"eyeLeft", "eyeRight", "nose"} <= {l["Type"] for l in detected[0]["Landmarks"]}, "DetectFaces finds B with landmarks")
listed = client.list_faces(CollectionId=collection, MaxResults=2)
expect(len(listed["Faces"]) == 2 and "NextToken" in listed, "ListFaces pages")
rest = client.list_faces(CollectionId=collection, MaxResults=2, NextToken=listed["NextToken"])
expect(len(rest["Faces"]) == 1 and "NextToken" not in rest, "ListFaces' second page holds the third face")

# Image.S3Object, read from the S3 endpoint the server was given.
if s3_endpoint:
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
    s3.create_bucket(Bucket="boto3-rekognition-photos")
    s3.put_object(Bucket="boto3-rekognition-photos", Key="party/b1.jpg", Body=b[1])
    from_s3 = client.index_faces(CollectionId=collection, Image={"S3Object": {"Bucket": "boto3-rekognition-photos", "Name": "party/b1.jpg"}},
                                 ExternalImageId="b1", MaxFaces=1)
    facts["s3Object"] = len(from_s3["FaceRecords"]) == 1
    expect(facts["s3Object"], "IndexFaces reads one face from the S3 object")
    client.delete_faces(CollectionId=collection, FaceIds=[r["Face"]["FaceId"] for r in from_s3["FaceRecords"]])
    missing = {"S3Object": {"Bucket": "boto3-rekognition-photos", "Name": "party/none.jpg"}}
    expect(error_code(client.index_faces, CollectionId=collection, Image=missing) == "InvalidS3ObjectException", "a missing S3 object")

# Users
client.create_user(CollectionId=collection, UserId="person-a")
client.create_user(CollectionId=collection, UserId="person-b")
expect(error_code(client.create_user, CollectionId=collection, UserId="person-a") == "ConflictException", "a second CreateUser conflicts")
associated = client.associate_faces(CollectionId=collection, UserId="person-a", FaceIds=[records["a0"], records["a1"]])
expect(len(associated["AssociatedFaces"]) == 2 and associated["UserStatus"] == "ACTIVE", f"AssociateFaces: {associated}")
low = client.associate_faces(CollectionId=collection, UserId="person-a", FaceIds=[records["b0"]], UserMatchThreshold=90)
expect([f["Reasons"] for f in low["UnsuccessfulFaceAssociations"]] == [["LOW_MATCH_CONFIDENCE"]], f"B's face does not join A: {low}")
client.associate_faces(CollectionId=collection, UserId="person-b", FaceIds=[records["b0"]])
users = client.list_users(CollectionId=collection)["Users"]
expect(sorted(u["UserId"] for u in users) == ["person-a", "person-b"], f"ListUsers: {users}")
probe = client.index_faces(CollectionId=collection, Image={"Bytes": a[2]}, ExternalImageId="a2", MaxFaces=1)["FaceRecords"][0]["Face"]["FaceId"]
found = client.search_users(CollectionId=collection, FaceId=probe, UserMatchThreshold=90)["UserMatches"]
expect([m["User"]["UserId"] for m in found] == ["person-a"], f"SearchUsers with A's third face finds person-a only: {found}")
refused = client.delete_faces(CollectionId=collection, FaceIds=[records["a1"]])
expect(refused["UnsuccessfulFaceDeletions"][0]["Reasons"] == ["ASSOCIATED_TO_AN_EXISTING_USER"], "a face of a user is not deleted")
client.disassociate_faces(CollectionId=collection, UserId="person-a", FaceIds=[records["a1"]])
deleted = client.delete_faces(CollectionId=collection, FaceIds=[records["a1"]])
expect(deleted["DeletedFaces"] == [records["a1"]], f"DeleteFaces after DisassociateFaces: {deleted}")
client.delete_user(CollectionId=collection, UserId="person-b")
expect(error_code(client.delete_user, CollectionId=collection, UserId="person-b") == "ResourceNotFoundException", "DeleteUser twice")
client.delete_collection(CollectionId=collection)
expect(collection not in client.list_collections()["CollectionIds"], "DeleteCollection removes it")

# A request signed with another secret is refused.
stranger = boto3.client("rekognition", endpoint_url=endpoint, region_name="eu-west-1", aws_access_key_id="test",
                        aws_secret_access_key="wrong", config=Config(retries={"max_attempts": 1}))
expect(error_code(stranger.list_collections) == "InvalidSignatureException", "a wrong secret is InvalidSignatureException")

operations = {"CreateCollection", "DescribeCollection", "DeleteCollection", "ListCollections", "IndexFaces", "SearchFaces",
              "SearchFacesByImage", "DetectFaces", "DeleteFaces", "ListFaces", "CreateUser", "DeleteUser", "ListUsers",
              "AssociateFaces", "DisassociateFaces", "SearchUsers"}
print(json.dumps({"calls": calls, "problems": problems, "facts": facts, "operations": sorted(operations)}))
