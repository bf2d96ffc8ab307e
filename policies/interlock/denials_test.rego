# Behaviour 11 and robustness: denials, and a decision that is always defined and well shaped.
package interlock_test

test_allowed_request_has_no_denials if {
	d := decide(base_request)
	d.allow == true
	d.deny == []
}

test_every_allowed_requester_kind if {
	every kind in ["agent", "human", "pipeline"] {
		d := decide(req({"requester": {"id": "x", "kind": kind}}))
		d.allow == true
	}
}

test_other_requester_kinds_are_denied if {
	every kind in ["robot", "Agent", "", null, 1] {
		d := decide(req({"requester": {"id": "x", "kind": kind}}))
		d.allow == false
		d.deny == ["request.requester.kind must be one of agent, human, pipeline"]
	}
}

test_missing_requester_kind_is_denied if {
	d := decide(req({"requester": {"id": "x"}}))
	d.allow == false
	denies(d, "request.requester.kind")
}

test_requester_kinds_are_configurable if {
	d := decide(req({"requester": {"id": "x", "kind": "service"}})) with data.interlock.catalogue.requesters.kinds as ["service"]
	d.allow == true
}

test_missing_fields_are_denied_by_name if {
	d := decide({"params": {}})
	d.allow == false
	every reason in [
		"request.action must be a non-empty string",
		"request.resource must be a non-empty string",
		"request.reason must be a non-empty justification",
		"request.requester.id must be a non-empty string",
		"request.requester.kind must be one of agent, human, pipeline",
	] {
		reason in d.deny
	}
}

test_blank_reason_is_denied if {
	d := decide(req({"reason": "   "}))
	d.deny == ["request.reason must be a non-empty justification"]
}

test_non_string_on_behalf_of_is_denied if {
	d := decide(req({"requester": {"id": "x", "kind": "agent", "on_behalf_of": ["alice"]}}))
	d.deny == ["request.requester.on_behalf_of must be a string when given"]
}

test_missing_findings_are_denied if {
	d := data.interlock.decision with input as {"request": base_request, "context": {}}
	d.allow == false
	denies(d, "findings must be a list")
}

test_decision_is_always_defined_and_well_shaped if {
	odd_inputs := [
		{},
		{"request": "db.query"},
		{"request": {}, "findings": {}, "context": []},
		{"request": {"action": 5, "resource": [], "params": "x", "requester": "me"}, "findings": [1, null]},
		{"request": base_request, "findings": [], "context": {"requested_ttl_seconds": "1d"}},
		input_with(base_request, [], null),
	]
	every odd in odd_inputs {
		d := data.interlock.decision with input as odd
		well_shaped(d)
	}
	well_shaped(data.interlock.decision) with input as null
	well_shaped(data.interlock.decision) with input as "text"
}

test_odd_input_is_denied_not_allowed if {
	every odd in [{}, {"request": "db.query", "findings": []}, {"request": {}, "findings": []}] {
		d := data.interlock.decision with input as odd
		d.allow == false
		d.auto_approve == false
	}
}

test_missing_policy_data_is_denied if {
	d := decide(base_request) with data.interlock.catalogue as {}
	well_shaped(d)
	d.allow == false
	d.auto_approve == false
	denies(d, "policy data is missing")
}

test_every_catalogued_action_yields_a_well_shaped_decision if {
	every action, _ in data.interlock.catalogue.actions {
		well_shaped(decide_findings(req({"action": action, "params": {"destination": "s3://x/", "principal": "bob"}}), [email_in_query]))
	}
}

test_malformed_actions_in_policy_data_is_denied if {
	d := decide(base_request) with data.interlock.catalogue as catalogue_with("actions", ["db.query"])
	well_shaped(d)
	d.allow == false
	denies(d, "catalogue actions must be an object")
}
