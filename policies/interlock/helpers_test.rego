# Shared test helpers: a well-formed request that each test adjusts.
package interlock_test

import data.interlock

# A catalogued, non-production, read-only request with no findings: auto-approved.
base_request := {
	"action": "db.query",
	"resource": "postgres://staging/customers",
	"params": {"query": "select count(*) from customers"},
	"reason": "Weekly churn analysis",
	"requester": {"id": "agent:etl-bot", "kind": "agent", "on_behalf_of": "alice"},
	"ttl": "24h",
}

# base_request with some top-level fields replaced.
# (object.union alone would merge nested objects such as requester.)
req(fields) := object.union(object.remove(base_request, object.keys(fields)), fields)

input_with(request, findings, ttl) := {
	"request": request,
	"findings": findings,
	"context": {"now": "2026-11-24T10:00:00Z", "repo": "acme/approvals", "requested_ttl_seconds": ttl},
	"analysis": host_analysis(request),
}

# What the host passes for a request whose SQL parameters its parser proved read-only (the
# executable parameters as the catalogue declares them). Tests of unproven SQL replace it.
host_analysis(request) := {
	"executable": executable,
	"sql": {path: read_only_sql | some path, language in executable; language == "sql"},
} if {
	executable := object.get(interlock.entry, "executable", {}) with input as {"request": request}
}

read_only_sql := {"read_only": true, "reasons": [], "statements": 1}

# The decision for a request with no findings and no usable requested TTL.
decide(request) := d if {
	d := interlock.decision with input as input_with(request, [], null)
}

# The decision for a request with findings.
decide_findings(request, findings) := d if {
	d := interlock.decision with input as input_with(request, findings, null)
}

# The decision for a request with a requested TTL.
decide_ttl(request, ttl) := d if {
	d := interlock.decision with input as input_with(request, [], ttl)
}

finding(type, kind, path) := {"type": type, "kind": kind, "path": path, "in": "value", "start": 0, "end": 4}

email_in_query := finding("email", "pii", "/params/query")

jwt_in_token := finding("jwt", "secret", "/params/token")

group_names(d) := [g.name | some g in d.approvals.groups]

# True when some why line contains the text.
explains(d, text) if {
	some line in d.why
	contains(line, text)
}

# True when some deny reason contains the text.
denies(d, text) if {
	some reason in d.deny
	contains(reason, text)
}

# The decision has exactly the keys the host accepts.
decision_keys := {"allow", "deny", "risk", "classification", "auto_approve", "approvals", "mask", "ttl_seconds", "why"}

well_shaped(d) if {
	object.keys(object.remove(d, ["readable"])) == decision_keys
	every path in object.get(d, "readable", []) {
		startswith(path, "/params/")
	}
	is_boolean(d.allow)
	no_denials := count(d.deny) == 0
	d.allow == no_denials
	d.risk in {"low", "medium", "high", "critical"}
	is_boolean(d.auto_approve)
	object.keys(d.approvals) == {"groups"}
	d.ttl_seconds >= 1
	floor(d.ttl_seconds) == d.ttl_seconds
	d.deny == sort(d.deny)
	d.classification == sort({c | some c in d.classification})
	count(d.why) > 0
}

# The default catalogue with one top-level section replaced. (A `with` on a nested data path is
# merged into the default object when a parent is read, so it cannot remove keys.)
catalogue_with(section, value) := object.union(object.remove(data.interlock.catalogue, [section]), {section: value})

# The default catalogue with one action entry replaced.
catalogue_with_action(key, entry) := catalogue_with(
	"actions",
	object.union(object.remove(data.interlock.catalogue.actions, [key]), {key: entry}),
)
