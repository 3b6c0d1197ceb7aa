"""Every query form the official SDK documents for audit logs gets an answer from the simulator, and the answer is
what a brute-force reading over all records (in Python, sharing nothing with the simulator) says it should be."""
import re

import pytest
from cbc_sdk.errors import QuerySyntaxError
from cbc_sdk.platform import AuditLog
from solrq import Q

from test_sdk_conformance import as_dict, normalise, parse_time


@pytest.fixture(scope="module")
def everything(sim):
    return [dict(normalise(r), raw=r) for r in sim.truth({})]


def words(text):
    return re.findall(r"[^\W_]+", (text or "").lower())


def same_records(got, want):
    key = lambda r: (r["create_time"], r["actor"], r["description"])
    return sorted(got, key=key) == sorted(want, key=key)


ALICE = "alice.admin@acme.example"
ATTACKER = "45.155.205.233"

CASES = {
    "where, a string": (
        lambda api: api.select(AuditLog).where('description:"Logged in"'),
        lambda r: " logged in " in " " + " ".join(words(r["description"])) + " "),
    "where, keyword arguments": (
        lambda api: api.select(AuditLog).where(actor=ALICE),
        lambda r: r["actor"] == ALICE),
    "where, an escaped space": (
        lambda api: api.select(AuditLog).where(description="Login failed"),
        lambda r: {"login", "failed"} <= set(words(r["description"]))),
    "and_": (
        lambda api: api.select(AuditLog).where(actor=ALICE).and_(Q(flagged="true")),
        lambda r: r["actor"] == ALICE and r["flagged"]),
    "and_, a string": (
        lambda api: api.select(AuditLog).where("flagged:true").and_("verbose:false"),
        # A record that leaves verbose out has no such field to be false: Elasticsearch does not index it.
        lambda r: r["flagged"] and r["raw"].get("verbose") is False),
    "or_": (
        lambda api: api.select(AuditLog).where(actor=ALICE).or_(Q(actor_ip=ATTACKER)),
        lambda r: r["actor"] == ALICE or r["actor_ip"] == ATTACKER),
    "not_": (
        lambda api: api.select(AuditLog).not_(actor=ALICE),
        lambda r: r["actor"] != ALICE),
    "and_ with not_": (
        lambda api: api.select(AuditLog).where(actor_ip="203.0.113.10").not_(description="logged"),
        lambda r: r["actor_ip"] == "203.0.113.10" and "logged" not in words(r["description"])),
    "~Q": (
        lambda api: api.select(AuditLog).where(flagged="true").and_(~Q(actor_ip=ATTACKER)),
        lambda r: r["flagged"] and r["actor_ip"] != ATTACKER),
    "boolean criteria": (
        lambda api: api.select(AuditLog).add_boolean_criteria("flagged", True),
        lambda r: r["flagged"]),
    "boolean criteria through add_criteria (a list)": (
        lambda api: api.select(AuditLog).add_criteria("verbose", [True]),
        lambda r: r["verbose"]),
    "criteria and exclusions": (
        lambda api: api.select(AuditLog).add_criteria("actor_ip", ["203.0.113.10", ATTACKER])
        .add_exclusions("actor", [ALICE]),
        lambda r: r["actor_ip"] in ("203.0.113.10", ATTACKER) and r["actor"] != ALICE),
    "excluded booleans": (
        lambda api: api.select(AuditLog).add_boolean_criteria("flagged", True, exclude=True),
        lambda r: not r["flagged"]),
    "field grouping": (
        lambda api: api.select(AuditLog).where(f"actor:({ALICE} OR bob.analyst@acme.example)"),
        lambda r: r["actor"] in (ALICE, "bob.analyst@acme.example")),
    "open date range": (
        lambda api: api.select(AuditLog).where("create_time:[now-1d TO *]"),
        None),
    "everything": (
        lambda api: api.select(AuditLog).where("*:*"),
        lambda r: True),
}


@pytest.mark.parametrize("name", CASES)
def test_documented_query_forms(api, sim, everything, name):
    build, brute = CASES[name]
    query = build(api)
    got = [as_dict(e) for e in query]
    assert got, f"{name}: the generated data should match it"
    want = [normalise(r) for r in sim.truth(query._build_request(0, -1))]
    assert got == want
    if brute is not None:
        assert same_records(got, [{k: v for k, v in r.items() if k != "raw"} for r in everything if brute(r)])


def test_python_booleans_are_refused(api):
    """The SDK writes Q(flagged=True) as flagged:True. Elasticsearch's boolean field takes only true and false, so
    the simulator refuses it, as CBC would if it parses booleans as Elasticsearch does: write flagged="true"."""
    query = api.select(AuditLog).where(actor=ALICE).and_(Q(flagged=True))
    assert "flagged:True" in query._build_request(0, -1)["query"]
    with pytest.raises(QuerySyntaxError, match="True"):
        list(query)


@pytest.mark.parametrize("field,direction", [("actor", "ASC"), ("actor_ip", "DESC"), ("create_time", "ASC"),
                                             ("flagged", "DESC"), ("description", "ASC")])
def test_sort(api, field, direction):
    got = [as_dict(e) for e in api.select(AuditLog).where("flagged:true").sort_by(field, direction)]
    keys = [parse_time(r[field]) if field == "create_time" else r[field] for r in got]
    assert keys == sorted(keys, reverse=direction == "DESC")
