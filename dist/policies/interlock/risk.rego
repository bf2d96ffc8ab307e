# The final risk, the approval groups, auto-approval and the TTL.
package interlock

# --- Risk --------------------------------------------------------------------------------------

# Each rule below sets a floor; the risk is the highest floor. Nothing lowers a risk.
risk_floors contains rank(base_risk)

risk_floors contains rank(production_min_risk) if production

risk_floors contains rank(finding_min_risk(kind)) if some kind in finding_kinds

risk_floors contains rank("critical") if export_escalated

default risk := "critical"

risk := risk_levels[max(risk_floors)]

critical if risk == "critical"

# --- Approval groups ---------------------------------------------------------------------------

default groups := {}

groups := config.groups if is_object(config.groups)

# Critical requests need a second, distinct group: critical.second_group, or
# critical.fallback_group when the owner already is the second group.
second_group := setting(["critical", "second_group"], "security")

fallback_group := setting(["critical", "fallback_group"], "platform")

extra_critical_group := second_group if owner != second_group

extra_critical_group := fallback_group if owner == second_group

required_group_names contains owner

required_group_names contains extra_critical_group if critical

# A group's `min`: its own when it is a positive whole number, else defaults.min_approvals.
group_min(group) := group.min if positive_integer(group.min)

group_min(group) := default_min_approvals if not positive_integer(object.get(group, "min", null))

default default_min_approvals := 1

default_min_approvals := setting(["defaults", "min_approvals"], 1) if {
	positive_integer(setting(["defaults", "min_approvals"], 1))
}

positive_integer(n) if {
	is_number(n)
	n >= 1
	floor(n) == n
}

group_owners(group) := [o | some o in object.get(group, "owners", []); is_string(o); o != ""]

# The groups that must approve, sorted by name. Empty when the request is auto-approved.
# Groups missing from data are left out here and deny the request (denials.rego).
approval_groups := [] if auto_approve

approval_groups := [{"name": name, "owners": group_owners(group), "min": group_min(group)} |
	some name in sort(required_group_names)
	group := groups[name]
	is_object(group)
] if not auto_approve

# --- Auto-approval -----------------------------------------------------------------------------

# Only a catalogued action whose entry allows it, on a non-production resource, with no findings
# at all, not denied, and no riskier than defaults.auto_approve_max_risk.
default auto_approve := false

auto_approve if {
	count(auto_approve_blockers) == 0
}

auto_approve_max_risk := valid_risk(setting(["defaults", "auto_approve_max_risk"], "low"), "low")

# Why a request is not auto-approved (empty when it is).
auto_approve_blockers contains "the action is not catalogued" if not catalogued

auto_approve_blockers contains concat("", ["the catalogue does not auto-approve ", catalogue_key]) if {
	catalogued
	not flag("auto_approve_non_production")
}

auto_approve_blockers contains "the resource is production" if production

auto_approve_blockers contains "the request has findings" if count(submitted_findings) > 0

auto_approve_blockers contains "the request is denied" if count(denials) > 0

auto_approve_blockers contains concat("", ["the risk is above ", auto_approve_max_risk]) if {
	rank(risk) > rank(auto_approve_max_risk)
}

# --- TTL ---------------------------------------------------------------------------------------

# The longest an approval stays valid at this risk (ttl.max_seconds in data).
default max_ttl_seconds := 14400

max_ttl_seconds := floor(setting(["ttl", "max_seconds", risk], 0)) if {
	positive_integer(floor(setting(["ttl", "max_seconds", risk], 0)))
}

# The TTL the requester asked for, in seconds, when it is a usable number.
requested_ttl_seconds := floor(context.requested_ttl_seconds) if {
	is_number(context.requested_ttl_seconds)
	context.requested_ttl_seconds >= 1
}

has_requested_ttl if is_number(requested_ttl_seconds)

# The requested TTL, capped at the maximum for the risk; the maximum when none was requested.
ttl_seconds := min({requested_ttl_seconds, max_ttl_seconds}) if has_requested_ttl

ttl_seconds := max_ttl_seconds if not has_requested_ttl
