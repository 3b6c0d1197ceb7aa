"""The official Carbon Black Cloud SDK, driven by cbcbench: it reads a task per line ("search" or "export"),
runs it as the SDK's documentation shows, and answers with one JSON line: the records it got and any error."""
import json
import sys

import urllib3
from cbc_sdk import CBCloudAPI
from cbc_sdk.platform import AuditLog

url, org_key, token, start, end = sys.argv[1:6]
urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # the simulator's certificate is self-signed
api = CBCloudAPI(url=url, token=token, org_key=org_key, ssl_verify=False)


def query():
    return api.select(AuditLog).add_time_criteria(start=start, end=end)


def search(progress):
    for _ in query():
        progress["records"] += 1


def export(progress):
    job = query().export("csv")
    job.await_completion().result()
    progress["records"] = sum(1 for _ in job.get_output_as_lines()) - 1  # minus the header


print("ready", flush=True)
for line in sys.stdin:
    progress = {"records": 0, "error": ""}
    try:
        {"search": search, "export": export}[line.strip()](progress)
    except Exception as e:  # reported, not fatal: the benchmark shows how far the SDK got
        progress["error"] = f"{type(e).__name__}: {e}"
    print(json.dumps(progress), flush=True)
