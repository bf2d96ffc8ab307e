# Behaviour 3: what is auto-approved, and what never is.
package interlock_test

test_db_query_on_non_production_is_low_and_auto_approved if {
	d := decide(base_request)
	d.allow == true
	d.risk == "low"
	d.auto_approve == true
	d.approvals.groups == []
	explains(d, "auto-approved: db.query")
}

test_db_query_on_production_is_medium_and_not_auto_approved if {
	d := decide(req({"resource": "postgres://prod/customers"}))
	d.risk == "medium"
	d.auto_approve == false
	group_names(d) == ["data-stewards"]
	explains(d, "needs human approval: the resource is production")
}

test_db_query_family_member_is_auto_approved_too if {
	d := decide(req({"action": "db.query.readonly"}))
	d.auto_approve == true
}

test_other_catalogued_actions_are_not_auto_approved if {
	every action in ["db.export", "iam.grant", "infra.apply", "secrets.read", "deploy.production", "payments.refund"] {
		d := decide(req({
			"action": action,
			"resource": "svc://staging/x",
			"params": {"destination": "s3://analytics-exports/x/", "principal": "bob"},
		}))
		d.auto_approve == false
		count(d.approvals.groups) >= 1
	}
}

test_only_db_query_has_the_auto_approve_flag if {
	flagged := {key | some key, entry in data.interlock.catalogue.actions; entry.auto_approve_non_production == true}
	flagged == {"db.query"}
}

test_denied_request_is_not_auto_approved if {
	d := decide(req({"requester": {"id": "agent:etl-bot", "kind": "robot"}}))
	d.allow == false
	d.auto_approve == false
	explains(d, "the request is denied")
}

test_auto_approve_respects_the_maximum_risk if {
	d := decide(base_request) with data.interlock.catalogue.actions["db.query"].risk as "medium"
	d.auto_approve == false
	explains(d, "the risk is above low")
}

test_auto_approve_flag_must_be_exactly_true if {
	d := decide(base_request) with data.interlock.catalogue.actions["db.query"].auto_approve_non_production as "yes"
	d.auto_approve == false
}
