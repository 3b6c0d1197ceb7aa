"""Starts the standalone simulator (the binary named by $CBCSIM) and gives tests the official SDK pointed at it."""
import datetime
import json
import os
import ssl
import subprocess
import urllib.request

import pytest
import urllib3
from cbc_sdk import CBCloudAPI

# The simulator serves HTTPS with a throwaway self-signed certificate.
urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
UNVERIFIED = ssl._create_unverified_context()

KEY_ID = "GRAFANA001"
KEY_SECRET = "SIMULATORSECRET0GRAFANA01"
ORG_KEY = "ABCD1234"


class Simulator:
    def __init__(self, url):
        self.url = url

    def admin(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30, context=UNVERIFIED) as resp:
            raw = resp.read()
            return json.loads(raw) if raw else None

    def login_now(self, actor):
        """Injects a successful login by actor, happening now; it reaches search and every key's queue."""
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        self.admin("POST", "/_sim/events", [{"create_time": now, "actor": actor, "actor_ip": "192.0.2.9",
                                             "description": "Logged in successfully"}])

    def truth(self, search):
        """Every record the search matches, in its order, without the 10000-record window."""
        return self.admin("POST", "/_sim/truth", search)["results"]


@pytest.fixture(scope="module")
def sim():
    binary = os.environ.get("CBCSIM")
    if not binary:
        pytest.fail("set CBCSIM to the simulator binary (go build -o .cache/cbcsim ./cmd/cbcsim)")
    proc = subprocess.Popen(
        [binary, "-addr", "127.0.0.1:0", "-seed", "21", "-span", "96h", "-per-day", "1500", "-rate", "0",
         "-job-duration", "1s", "-rate-limit", "0", "-tls"],
        stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if "listening on " not in line:
        proc.kill()
        pytest.fail(f"the simulator did not start: {line!r}")
    yield Simulator(line.split("listening on ")[1].split()[0])
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def api(sim):
    return CBCloudAPI(url=sim.url, token=f"{KEY_SECRET}/{KEY_ID}", org_key=ORG_KEY, ssl_verify=False)
