# Exports (catalogue flag `export: true`): the destination must be inside an allow-list.
# Outside it, the request is escalated to critical or denied (exports.outside in data).
package interlock

is_export if flag("export")

has_destination if {
	is_string(params.destination)
	params.destination != ""
}

allowed_destination_prefixes := list(["exports", "allowed_destination_prefixes"], [])

# The allow-list prefixes the destination starts with. A destination containing ".." could
# climb out of an allowed prefix, so it is never inside the allow-list.
destination_prefixes contains prefix if {
	has_destination
	not contains(params.destination, "..")
	some prefix in allowed_destination_prefixes
	startswith(params.destination, prefix)
}

destination_allowed if count(destination_prefixes) > 0

destination_outside if {
	is_export
	has_destination
	not destination_allowed
}

# "escalate" (the default) or "deny"; anything else is treated as deny.
default outside_destination_handling := "deny"

outside_destination_handling := "escalate" if setting(["exports", "outside"], "escalate") == "escalate"

export_escalated if {
	destination_outside
	outside_destination_handling == "escalate"
}

export_denied if {
	destination_outside
	outside_destination_handling == "deny"
}

export_missing_destination if {
	is_export
	not has_destination
}
