# Behaviour 1: the action catalogue and how actions match it.
package interlock_test

test_every_default_family_is_catalogued if {
	expected := {
		"db.query": ["low", "data-stewards"],
		"db.export": ["high", "data-stewards"],
		"iam.grant": ["high", "security"],
		"infra.apply": ["high", "platform"],
		"secrets.read": ["high", "security"],
		"deploy.production": ["high", "release-managers"],
		"payments.refund": ["medium", "finance"],
	}
	every action, risk_owner in expected {
		entry := data.interlock.catalogue.actions[action]
		entry.risk == risk_owner[0]
		entry.owner == risk_owner[1]
		is_array(data.interlock.catalogue.groups[entry.owner].owners)
	}
}

test_exact_match_gives_catalogue_risk_and_owner if {
	d := decide(req({"action": "infra.apply", "resource": "tf://staging/network"}))
	d.risk == "high"
	group_names(d) == ["platform"]
	d.approvals.groups[0].owners == ["@acme/platform"]
	d.approvals.groups[0].min == 1
	d.why[0] == "infra.apply is catalogued as high risk (owner platform)"
}

test_family_prefix_matches if {
	d := decide(req({"action": "infra.apply.terraform", "resource": "tf://staging/network"}))
	group_names(d) == ["platform"]
	d.why[0] == "infra.apply.terraform belongs to the catalogued family infra.apply: high risk (owner platform)"
}

test_prefix_must_end_at_a_dot if {
	# iam.granted is not in the iam.grant family.
	d := decide(req({"action": "iam.granted", "params": {"principal": "bob"}}))
	d.why[0] == "iam.granted is not catalogued: default high risk (owner security), never auto-approved"
	not denies(d, "grantee")
}

test_longest_matching_key_wins if {
	catalogue := object.union(data.interlock.catalogue.actions, {"db.query.analytics": {"risk": "medium", "owner": "platform"}})
	d := decide(req({"action": "db.query.analytics.daily"})) with data.interlock.catalogue.actions as catalogue
	d.risk == "medium"
	group_names(d) == ["platform"]
	explains(d, "belongs to the catalogued family db.query.analytics:")
}

test_action_is_matched_case_insensitively if {
	d := decide(req({"action": "IAM.Grant", "params": {"principal": "alice"}}))
	denies(d, "self-grant")
}

test_uncatalogued_action_gets_default_risk_and_owner if {
	d := decide(req({"action": "k8s.delete", "resource": "k8s://staging/ns"}))
	d.risk == "high"
	group_names(d) == ["security"]
	d.auto_approve == false
	d.allow == true
	d.why[0] == "k8s.delete is not catalogued: default high risk (owner security), never auto-approved"
}

test_uncatalogued_defaults_are_data if {
	d := decide(req({"action": "k8s.delete", "resource": "k8s://staging/ns"})) with data.interlock.catalogue.defaults as {"risk": "medium", "owner": "platform"}
	d.risk == "medium"
	group_names(d) == ["platform"]
}

test_uncatalogued_is_never_auto_approved_even_at_low_risk if {
	d := decide(req({"action": "k8s.get", "resource": "k8s://staging/ns"})) with data.interlock.catalogue.defaults.risk as "low"
	d.risk == "low"
	d.auto_approve == false
	explains(d, "the action is not catalogued")
}

test_malformed_catalogue_entry_is_denied if {
	d := decide(req({"action": "infra.apply"})) with data.interlock.catalogue.actions["infra.apply"].risk as "hgih"
	d.allow == false
	d.risk == "high"
	"catalogue entry infra.apply has no valid risk (one of low, medium, high, critical)" in d.deny
	d2 := decide(req({"action": "iam.grant", "params": {"principal": "alice"}})) with data.interlock.catalogue.actions["iam.grant"] as "high"
	d2.allow == false
	denies(d2, "catalogue entry iam.grant is malformed")
	d3 := decide(req({"action": "infra.apply"})) with data.interlock.catalogue as catalogue_with_action("infra.apply", {"risk": "high"})
	d3.deny == ["catalogue entry infra.apply has no owner group"]
}
