# Behaviour 5: critical requests need two distinct approval groups.
package interlock_test

test_critical_adds_security_as_second_group if {
	d := decide_findings(req({"action": "infra.apply"}), [jwt_in_token])
	d.risk == "critical"
	group_names(d) == ["platform", "security"]
	every g in d.approvals.groups {
		g.min == 1
	}
	explains(d, "critical risk: two distinct groups must approve (platform, security)")
}

test_critical_with_security_owner_falls_back_to_platform if {
	d := decide_findings(req({"action": "secrets.read"}), [jwt_in_token])
	group_names(d) == ["platform", "security"]
}

test_critical_groups_are_configurable if {
	d := decide_findings(req({"action": "infra.apply"}), [jwt_in_token]) with data.interlock.catalogue.critical as {"second_group": "release-managers", "fallback_group": "security"}
	group_names(d) == ["platform", "release-managers"]
	d2 := decide_findings(req({"action": "deploy.production"}), [jwt_in_token]) with data.interlock.catalogue.critical as {"second_group": "release-managers", "fallback_group": "security"}
	group_names(d2) == ["release-managers", "security"]
}

test_group_min_is_configurable if {
	d := decide(req({"action": "infra.apply"})) with data.interlock.catalogue.groups.platform.min as 2
	d.approvals.groups[0].min == 2
	d2 := decide(req({"action": "infra.apply"})) with data.interlock.catalogue.defaults.min_approvals as 3
	d2.approvals.groups[0].min == 3
}

test_non_critical_needs_only_the_owner if {
	d := decide(req({"action": "deploy.production", "resource": "k8s://prod/web"}))
	d.risk == "high"
	group_names(d) == ["release-managers"]
	not explains(d, "critical risk")
}

test_critical_with_one_distinct_group_is_denied if {
	d := decide_findings(req({"action": "secrets.read"}), [jwt_in_token]) with data.interlock.catalogue.critical.fallback_group as "security"
	d.allow == false
	denies(d, "two distinct approval groups")
}

test_undefined_owner_group_is_denied if {
	d := decide(req({"action": "infra.apply"})) with data.interlock.catalogue.actions["infra.apply"].owner as "sre"
	d.allow == false
	"approval group sre is not defined in the catalogue groups" in d.deny
}

test_group_without_owners_is_denied if {
	d := decide(req({"action": "infra.apply"})) with data.interlock.catalogue.groups.platform.owners as []
	d.allow == false
	denies(d, "has no owners")
}
