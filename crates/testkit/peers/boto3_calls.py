"""Runs AWS API calls with boto3 (a real AWS client) against a crossfed endpoint.

stdin: {"endpoint": URL, "region": R, "admin": {"access_key_id", "secret_access_key"},
        "calls": [{"service", "operation", "params", "credentials"?: {..., "session_token"}}]}
stdout: one result per call: {"ok": true, "result": ...} or {"ok": false, "code", "message", "status"}.
A call's "params" may reference an earlier result as {"$result": INDEX, "path": [KEY, ...]}.
A call with "page_size": N runs the operation's paginator with that page size; its result is
{"pages": [page, ...]}.
"""
import json
import os
import sys

os.environ.setdefault("AWS_CONFIG_FILE", "/dev/null")
os.environ.setdefault("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")

import boto3  # noqa: E402
import botocore.config  # noqa: E402
import botocore.exceptions  # noqa: E402


def resolve(value, results):
    if isinstance(value, dict) and "$result" in value:
        found = results[value["$result"]]["result"]
        for key in value.get("path", []):
            found = found[key]
        return found
    if isinstance(value, dict):
        return {k: resolve(v, results) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, results) for v in value]
    return value


def main():
    request = json.load(sys.stdin)
    config = botocore.config.Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=15)
    results = []
    for call in request["calls"]:
        credentials = resolve(call.get("credentials") or request["admin"], results)
        client = boto3.client(
            call["service"],
            endpoint_url=request["endpoint"],
            region_name=request.get("region", "us-east-1"),
            aws_access_key_id=credentials.get("access_key_id") or credentials.get("AccessKeyId"),
            aws_secret_access_key=credentials.get("secret_access_key") or credentials.get("SecretAccessKey"),
            aws_session_token=credentials.get("session_token") or credentials.get("SessionToken"),
            config=config,
        )
        try:
            params = resolve(call.get("params", {}), results)
            if "page_size" in call:
                paginator = client.get_paginator(call["operation"])
                pages = paginator.paginate(**params, PaginationConfig={"PageSize": call["page_size"]})
                result = {"pages": [{k: v for k, v in page.items() if k != "ResponseMetadata"} for page in pages]}
            else:
                result = getattr(client, call["operation"])(**params)
            result.pop("ResponseMetadata", None)
            results.append({"ok": True, "result": result})
        except botocore.exceptions.ParamValidationError as error:
            results.append({"ok": False, "code": "ParamValidationError", "message": str(error), "status": None})
        except botocore.exceptions.ClientError as error:
            results.append({
                "ok": False,
                "code": error.response.get("Error", {}).get("Code"),
                "message": error.response.get("Error", {}).get("Message"),
                "status": error.response.get("ResponseMetadata", {}).get("HTTPStatusCode"),
            })
    json.dump(results, sys.stdout, default=str)


if __name__ == "__main__":
    main()
