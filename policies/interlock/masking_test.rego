# Behaviour 8: a mask for every finding, with the strategy configured per finding type.
package interlock_test

test_default_strategy_per_type if {
	expected := {
		"email": "hash", "phone": "partial", "payment_card": "partial", "iban": "partial",
		"us_ssn": "redact", "ip_address": "partial",
	}
	every type, strategy in expected {
		d := decide_findings(base_request, [finding(type, "pii", "/params/query")])
		d.mask == [{"path": "/params/query", "strategy": strategy, "type": type}]
	}
}

test_every_secret_type_is_redacted if {
	every type in [
		"jwt", "private_key", "aws_access_key", "aws_secret_key", "github_token",
		"slack_token", "stripe_key", "google_api_key", "generic_secret",
	] {
		d := decide_findings(base_request, [finding(type, "secret", "/params/token")])
		d.mask == [{"path": "/params/token", "strategy": "redact", "type": type}]
	}
}

test_masks_are_distinct_and_sorted_by_path_then_strategy if {
	d := decide_findings(base_request, [
		finding("us_ssn", "pii", "/params/query"),
		email_in_query,
		email_in_query,
		finding("ip_address", "pii", "/params/b"),
		finding("jwt", "secret", "/reason"),
	])
	d.mask == [
		{"path": "/params/b", "strategy": "partial", "type": "ip_address"},
		{"path": "/params/query", "strategy": "hash", "type": "email"},
		{"path": "/params/query", "strategy": "redact", "type": "us_ssn"},
		{"path": "/reason", "strategy": "redact", "type": "jwt"},
	]
}

test_catalogue_entry_adds_masks if {
	d := decide_findings(req({"action": "payments.refund"}), [finding("email", "pii", "/params/customer")])
	d.mask == [
		{"path": "/params/card_holder", "strategy": "redact"},
		{"path": "/params/customer", "strategy": "hash", "type": "email"},
	]
}

test_strategy_is_configurable if {
	d := decide_findings(base_request, [email_in_query]) with data.interlock.catalogue.masking.by_type.email as "drop"
	d.mask == [{"path": "/params/query", "strategy": "drop", "type": "email"}]
}

test_unlisted_type_falls_back_to_kind_then_redact if {
	d := decide_findings(base_request, [finding("passport", "pii", "/params/p")]) with data.interlock.catalogue.masking.by_kind.pii as "hash"
	d.mask == [{"path": "/params/p", "strategy": "hash", "type": "passport"}]
	d2 := decide_findings(base_request, [finding("passport", "pii", "/params/p")]) with data.interlock.catalogue as catalogue_with("masking", {"by_type": {}})
	d2.mask == [{"path": "/params/p", "strategy": "redact", "type": "passport"}]
}

test_unknown_strategy_becomes_redact if {
	d := decide_findings(base_request, [email_in_query]) with data.interlock.catalogue.masking.by_type.email as "scramble"
	d.mask == [{"path": "/params/query", "strategy": "redact", "type": "email"}]
}

test_no_findings_no_masks if {
	d := decide(base_request)
	d.mask == []
}
