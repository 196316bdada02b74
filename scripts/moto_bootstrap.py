#!/usr/bin/env python3
"""Creates an IAM user with an access key on a moto_server started with INITIAL_NO_AUTH_ACTION_COUNT=0,
then closes the unauthenticated window: every later request must be signed with that key.
Prints "ACCESS_KEY SECRET". (Recipe: shared reference aws-facts.md §9.)"""
import json, sys
import boto3, requests

endpoint = sys.argv[1]
requests.post(endpoint + "/moto-api/reset-auth", data=b"100").raise_for_status()
iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="AKIDBOOTSTRAP", aws_secret_access_key="bootstrap")
iam.create_user(UserName="facecluster-tests")
iam.put_user_policy(UserName="facecluster-tests", PolicyName="all", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
key = iam.create_access_key(UserName="facecluster-tests")["AccessKey"]
requests.post(endpoint + "/moto-api/reset-auth", data=b"0").raise_for_status()
print(key["AccessKeyId"], key["SecretAccessKey"])
