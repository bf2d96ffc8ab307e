# The explanation a reviewer reads: one sentence per line, in a fixed order. Lines name
# catalogue keys, configured values, finding types and counts; never request values, which may
# hold personal data or secrets.
package interlock

why := [line | some section in why_sections; some line in section]

why_sections := [
	why_catalogue,
	why_production,
	why_findings,
	why_export,
	why_grant,
	why_critical,
	why_auto_approve,
	why_ttl,
]

# The action as the reviewer sees it; not repeated when a detector flagged it.
default action_label := "the action"

action_label := action if {
	action != ""
	not action_flagged
}

action_flagged if {
	some f in findings
	f.path == "/action"
}

# A malformed finding might point anywhere, the action included.
action_flagged if count(submitted_findings) > count(findings)

# --- Catalogue match and base risk -------------------------------------------------------------

default why_catalogue := []

why_catalogue := [concat("", [action_label, " is catalogued as ", base_risk, " risk (owner ", owner, ")"])] if {
	catalogued
	action == catalogue_key
}

why_catalogue := [concat("", [
	action_label, " belongs to the catalogued family ", catalogue_key,
	": ", base_risk, " risk (owner ", owner, ")",
])] if {
	catalogued
	action != catalogue_key
}

why_catalogue := [concat("", [
	action_label, " is not catalogued: default ", base_risk,
	" risk (owner ", owner, "), never auto-approved",
])] if not catalogued

# --- Production --------------------------------------------------------------------------------

default why_production := ["the resource is not production"]

why_production := [concat("", [
	"the resource is production (", concat(", ", sort(production_matches)),
	"): risk at least ", production_min_risk,
])] if production

# --- Findings ----------------------------------------------------------------------------------

default why_findings := ["no personal data or secrets found"]

# One line per kind, e.g. "pii found: 2 email, 1 phone; classification pii, risk at least high".
why_findings := [line |
	some kind in sort(finding_kinds)
	rule := finding_rule(kind)
	line := concat("", [
		kind, " found: ", finding_tally(kind),
		"; classification ", object.get(rule, "classification", "none"),
		", risk at least ", finding_min_risk(kind),
	])
] if count(finding_kinds) > 0

finding_tally(kind) := concat(", ", [concat(" ", [format_int(finding_count(kind, type), 10), type]) |
	some type in sort(finding_types(kind))
])

# --- Export allow-list -------------------------------------------------------------------------

default why_export := []

why_export := [concat("", ["the destination is inside the export allow-list (", concat(", ", sort(destination_prefixes)), ")"])] if {
	is_export
	destination_allowed
}

why_export := ["the destination is outside the export allow-list: escalated to critical"] if export_escalated

why_export := ["the destination is outside the export allow-list: denied"] if export_denied

why_export := ["the export names no destination: denied"] if export_missing_destination

# --- Self-grant --------------------------------------------------------------------------------

default why_grant := []

why_grant := ["the grantee is neither the requester nor the human it acts for"] if {
	grants_privileges
	not self_grant
	not grantee_unusable
}

why_grant := ["the grantee is the requester or the human it acts for: denied"] if self_grant

why_grant := ["the grantee is missing or malformed: denied"] if {
	grantee_unusable
	not self_grant
}

# --- Critical escalation -----------------------------------------------------------------------

default why_critical := []

why_critical := [concat("", [
	"critical risk: two distinct groups must approve (",
	concat(", ", sort(required_group_names)), ")",
])] if critical

# --- Auto-approval -----------------------------------------------------------------------------

why_auto_approve := [concat("", [
	"auto-approved: ", catalogue_key, " on a non-production resource, no findings, ",
	risk, " risk",
])] if auto_approve

why_auto_approve := [concat("", [
	"needs human approval: ", concat("; ", sort(auto_approve_blockers)),
])] if not auto_approve

# --- TTL ---------------------------------------------------------------------------------------

why_ttl := [concat("", [
	"ttl ", format_int(ttl_seconds, 10), "s as requested (maximum for ", risk, " risk: ",
	format_int(max_ttl_seconds, 10), "s)",
])] if {
	has_requested_ttl
	requested_ttl_seconds <= max_ttl_seconds
}

why_ttl := [concat("", [
	"ttl ", format_int(ttl_seconds, 10), "s: the requested ", format_int(requested_ttl_seconds, 10),
	"s is capped at the maximum for ", risk, " risk",
])] if {
	has_requested_ttl
	requested_ttl_seconds > max_ttl_seconds
}

why_ttl := [concat("", ["ttl ", format_int(ttl_seconds, 10), "s: the maximum for ", risk, " risk (no usable ttl requested)"])] if {
	not has_requested_ttl
}
