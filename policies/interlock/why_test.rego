# Behaviour 10: the explanation, in order, without request values.
package interlock_test

test_why_lines_in_order if {
	request := req({
		"action": "db.export",
		"resource": "postgres://prod/customers",
		"params": {"query": "select * from customers where email = 'jane@example.com'", "destination": "s3://elsewhere/"},
	})
	d := interlock_decision(input_with(request, [email_in_query, jwt_in_token], 86400))
	d.why == [
		"db.export is catalogued as high risk (owner data-stewards)",
		"the resource is production (prod): risk at least medium",
		"pii found: 1 email; classification pii, risk at least high",
		"secret found: 1 jwt; classification secret, risk at least critical",
		"the destination is outside the export allow-list: escalated to critical",
		"critical risk: two distinct groups must approve (data-stewards, security)",
		"needs human approval: the catalogue does not auto-approve db.export; the request has findings; the resource is production; the risk is above low",
		"ttl 14400s: the requested 86400s is capped at the maximum for critical risk",
	]
}

test_why_for_an_auto_approved_request if {
	d := decide(base_request)
	d.why == [
		"db.query is catalogued as low risk (owner data-stewards)",
		"the resource is not production",
		"no personal data or secrets found",
		"auto-approved: db.query on a non-production resource, no findings, low risk",
		"ttl 604800s: the maximum for low risk (no usable ttl requested)",
	]
}

test_why_never_repeats_request_values if {
	request := req({
		"action": "iam.grant",
		"resource": "postgres://admin:hunter2@prod/customers",
		"params": {"principal": "jane@example.com", "destination": "s3://jane@example.com/"},
	})
	d := interlock_decision(input_with(request, [finding("email", "pii", "/params/principal")], null))
	every line in array.concat(d.why, d.deny) {
		not contains(line, "jane")
		not contains(line, "hunter2")
		not contains(line, "customers")
	}
}

test_why_does_not_repeat_a_flagged_action if {
	d := decide_findings(req({"action": "x.jane-doe"}), [finding("generic_secret", "secret", "/action")])
	d.why[0] == "the action is not catalogued: default high risk (owner security), never auto-approved"
}

interlock_decision(doc) := d if {
	d := data.interlock.decision with input as doc
}
