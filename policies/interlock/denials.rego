# Every reason to deny a request. A denied request is recorded but never becomes an approvable
# proposal. Reasons never repeat request values (which may hold secrets): they name fields.
package interlock

# --- The policy data ---------------------------------------------------------------------------

denials contains "policy data is missing: data.interlock.catalogue must be an object" if config == {}

denials contains "policy data is malformed: catalogue actions must be an object" if {
	config != {}
	not is_object(object.get(config, "actions", null))
}

denials contains concat("", ["approval group ", name, " is not defined in the catalogue groups"]) if {
	some name in required_group_names
	is_string(name)
	not is_object(object.get(groups, name, null))
}

denials contains "an approval group name in the catalogue is not a string" if {
	some name in required_group_names
	not is_string(name)
}

denials contains concat("", ["approval group ", name, " has no owners in the catalogue"]) if {
	some name in required_group_names
	is_object(groups[name])
	count(group_owners(groups[name])) == 0
}

denials contains "critical requests need two distinct approval groups: check critical.second_group and critical.fallback_group" if {
	critical
	count(required_group_names) < 2
}

# --- The request -------------------------------------------------------------------------------

denials contains "request is missing or not an object" if not request_given

denials contains "request.action must be a non-empty string" if {
	request_given
	not non_empty_string(object.get(request, "action", null))
}

denials contains "request.resource must be a non-empty string" if {
	request_given
	not non_empty_string(object.get(request, "resource", null))
}

denials contains "request.reason must be a non-empty justification" if {
	request_given
	not valid_reason
}

denials contains "request.requester.id must be a non-empty string" if {
	request_given
	not non_empty_string(object.get(requester, "id", null))
}

denials contains concat("", ["request.requester.kind must be one of ", concat(", ", requester_kinds)]) if {
	request_given
	not object.get(requester, "kind", null) in requester_kinds
}

denials contains "request.requester.on_behalf_of must be a string when given" if {
	requester.on_behalf_of != null
	not is_string(requester.on_behalf_of)
}

requester_kinds := list(["requesters", "kinds"], ["agent", "human", "pipeline"])

valid_reason if {
	is_string(request.reason)
	trim_space(request.reason) != ""
}

non_empty_string(s) if {
	is_string(s)
	s != ""
}

# --- Findings ----------------------------------------------------------------------------------

# Without findings the detectors did not run: nothing can say the request is safe to write down.
denials contains "findings must be a list (did the detectors run?)" if not findings_given

denials contains concat("", [format_int(n, 10), " finding(s) malformed: each needs a string type, kind and path"]) if {
	n := count(submitted_findings) - count(findings)
	n > 0
}

# --- Exports -----------------------------------------------------------------------------------

denials contains concat("", [catalogue_key, " is an export and needs params.destination"]) if export_missing_destination

denials contains "params.destination is outside the export allow-list" if export_denied

# --- Self-grant --------------------------------------------------------------------------------

denials contains "self-grant: the grantee is the requester, the human it acts for (its sponsor), another name of either, or a group either belongs to" if self_grant

denials contains concat("", [catalogue_key, " grants privileges and needs the grantee in params.", concat(", params.", grantee_params)]) if {
	grantee_missing
	count(malformed_grantee_params) == 0
}

denials contains concat("", ["params.", field, " must be a string naming the grantee"]) if {
	grants_privileges
	some field in malformed_grantee_params
}

# --- The matched catalogue entry ---------------------------------------------------------------

# A broken entry could silently drop a flag such as `grants` or `export`: fail closed.
denials contains concat("", ["catalogue entry ", catalogue_key, " is malformed: it must be an object with a risk and an owner"]) if {
	catalogued
	not is_object(actions[catalogue_key])
}

denials contains concat("", ["catalogue entry ", catalogue_key, " has no valid risk (one of ", concat(", ", risk_levels), ")"]) if {
	is_object(actions[catalogue_key])
	not object.get(entry, "risk", null) in risk_levels
}

denials contains concat("", ["catalogue entry ", catalogue_key, " has no owner group"]) if {
	is_object(actions[catalogue_key])
	not is_string(object.get(entry, "owner", null))
}
