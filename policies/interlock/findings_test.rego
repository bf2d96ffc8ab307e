# Behaviour 4: findings raise classification and risk, and block auto-approval.
package interlock_test

test_pii_finding_classifies_pii_and_raises_risk_to_high if {
	d := decide_findings(base_request, [email_in_query])
	d.classification == ["pii"]
	d.risk == "high"
	d.auto_approve == false
	group_names(d) == ["data-stewards"]
	d.why[2] == "pii found: 1 email; classification pii, risk at least high"
}

test_secret_finding_classifies_secret_and_makes_it_critical if {
	d := decide_findings(base_request, [jwt_in_token])
	d.classification == ["secret"]
	d.risk == "critical"
	d.auto_approve == false
}

test_findings_never_lower_risk if {
	d := decide_findings(req({"action": "infra.apply"}), [email_in_query]) with data.interlock.catalogue.findings.pii.min_risk as "low"
	d.risk == "high"
}

test_findings_and_catalogue_classes_combine if {
	d := decide_findings(req({"action": "secrets.read"}), [jwt_in_token, email_in_query])
	d.classification == ["credentials", "pii", "secret"]
}

test_catalogue_classification if {
	d := decide(req({"action": "payments.refund", "resource": "stripe://charges/ch_1"}))
	d.classification == ["financial"]
	d.risk == "medium"
	group_names(d) == ["finance"]
}

test_no_findings_no_classification if {
	d := decide(base_request)
	d.classification == []
	d.why[2] == "no personal data or secrets found"
}

test_unknown_finding_kind_is_treated_as_secret if {
	d := decide_findings(base_request, [finding("new_token", "credential", "/params/x")])
	d.risk == "critical"
	d.classification == ["secret"]
}

test_findings_are_counted_by_type_never_quoted if {
	d := decide_findings(base_request, [email_in_query, email_in_query, finding("phone", "pii", "/params/query")])
	d.why[2] == "pii found: 2 email, 1 phone; classification pii, risk at least high"
}

test_malformed_finding_denies_and_blocks_auto_approval if {
	d := decide_findings(base_request, [{"type": "email"}])
	d.allow == false
	d.auto_approve == false
	denies(d, "1 finding(s) malformed")
}

test_unknown_kind_is_a_secret_even_without_findings_data if {
	d := decide_findings(base_request, [finding("new_token", "credential", "/params/x")]) with data.interlock.catalogue as catalogue_with("findings", {})
	d.risk == "critical"
	d.classification == ["secret"]
}

test_catalogue_classification_may_be_a_single_string if {
	d := decide(req({"action": "payments.refund"})) with data.interlock.catalogue as catalogue_with_action("payments.refund", {"risk": "medium", "owner": "finance", "classification": "financial"})
	d.classification == ["financial"]
}
