"""The official Carbon Black Cloud SDK (carbon-black-cloud-sdk 1.5.10) used as the client of the simulator."""
import csv
import datetime
import io
import json

from cbc_sdk.platform import AuditLog


def as_dict(event):
    return normalise(event._info)


def normalise(record):
    """A record with every field, absent booleans false, as the SDK's objects and the simulator's JSON differ."""
    return {
        "actor": record.get("actor"), "actor_ip": record.get("actor_ip"), "create_time": record.get("create_time"),
        "description": record.get("description"), "flagged": record.get("flagged", False),
        "verbose": record.get("verbose", False), "org_key": record.get("org_key"), "request_url": record.get("request_url"),
    }


def parse_time(text):
    """CBC writes times with milliseconds, or in whole seconds without a fraction: compare them as times."""
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_queued_audit_logs_are_cleared_by_reading(api, sim):
    first = AuditLog.get_queued_auditlogs(api)
    assert len(first) == 2500, "one read returns a batch of at most 2500, oldest first"
    times = [parse_time(e.create_time) for e in first]
    assert times == sorted(times)
    while AuditLog.get_queued_auditlogs(api):
        pass
    sim.login_now("new@acme.example")
    second = AuditLog.get_queued_auditlogs(api)
    assert [e.actor for e in second] == ["new@acme.example"], "a second read returns only newer events"


def test_search_with_where_criteria_exclusions_time_and_sort(api, sim):
    end = datetime.datetime.now(datetime.timezone.utc)
    start = end - datetime.timedelta(days=2)
    query = (api.select(AuditLog)
             .where('description:"Logged in"')
             .add_criteria("actor_ip", ["203.0.113.10", "198.51.100.7", "10.20.0.15"])
             .add_exclusions("actor", ["KX7Q2M9RTA"])
             .add_time_criteria(start=start, end=end)
             .sort_by("actor_ip", "ASC"))
    got = [as_dict(e) for e in query]
    body = query._build_request(0, -1)
    want = [normalise(r) for r in sim.truth(body)]
    assert len(want) > 50, "the generator's data should hold logins from these IPs"
    assert got == want
    assert {r["actor_ip"] for r in got} <= {"203.0.113.10", "198.51.100.7"}
    assert all(r["actor"] != "KX7Q2M9RTA" for r in got)
    assert [r["actor_ip"] for r in got] == sorted(r["actor_ip"] for r in got)
    assert len(query) == len(want)


def test_boolean_criteria_and_relative_range(api, sim):
    query = api.select(AuditLog).add_boolean_criteria("flagged", True).add_time_criteria(range="-1d")
    got = [as_dict(e) for e in query]
    want = [normalise(r) for r in sim.truth(query._build_request(0, -1))]
    assert got == want and got and all(r["flagged"] for r in got)


def test_export_csv_and_json(api, sim):
    query = api.select(AuditLog).where("flagged:true").add_time_criteria(range="-2d")
    want = [normalise(r) for r in sim.truth(query._build_request(0, -1))]
    assert want

    job = query.export("csv")
    text = job.await_completion().result().get_output_as_string()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0].keys()) == ["create_time", "actor", "actor_ip", "description", "flagged", "verbose", "org_key", "request_url"]
    assert [r["create_time"] for r in rows] == [r["create_time"] for r in want]
    assert [r["description"] for r in rows] == [r["description"] for r in want]

    job = query.export("json")
    records = json.loads(job.await_completion().result().get_output_as_string())
    assert [normalise(r) for r in records] == want


def test_legacy_queue(api, sim):
    while AuditLog.get_queued_auditlogs(api):
        pass
    sim.login_now("legacy@acme.example")
    events = AuditLog.get_auditlogs(api)
    assert [e["loginName"] for e in events] == ["legacy@acme.example"]
    assert AuditLog.get_auditlogs(api) == []
