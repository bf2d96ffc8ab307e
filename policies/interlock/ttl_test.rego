# Behaviour 9: the TTL is the requested one, capped at the maximum for the risk.
package interlock_test

test_max_ttl_per_risk_when_none_requested if {
	decide(base_request).ttl_seconds == 604800
	decide(req({"resource": "postgres://prod/x"})).ttl_seconds == 259200
	decide(req({"action": "infra.apply"})).ttl_seconds == 86400
	decide_findings(base_request, [jwt_in_token]).ttl_seconds == 14400
}

test_requested_ttl_below_the_maximum_is_kept if {
	d := decide_ttl(req({"action": "infra.apply"}), 3600)
	d.ttl_seconds == 3600
	explains(d, "ttl 3600s as requested (maximum for high risk: 86400s)")
}

test_requested_ttl_above_the_maximum_is_capped if {
	d := decide_ttl(req({"action": "infra.apply"}), 604800)
	d.ttl_seconds == 86400
	explains(d, "ttl 86400s: the requested 604800s is capped at the maximum for high risk")
}

test_unusable_requested_ttl_gives_the_maximum if {
	every ttl in [null, 0, -5, 0.5, "24h", {}] {
		d := decide_ttl(req({"action": "infra.apply"}), ttl)
		d.ttl_seconds == 86400
		explains(d, "no usable ttl requested")
	}
}

test_fractional_ttl_is_a_whole_number if {
	decide_ttl(req({"action": "infra.apply"}), 90.9).ttl_seconds == 90
}

test_max_ttl_is_configurable if {
	d := decide(req({"action": "infra.apply"})) with data.interlock.catalogue.ttl.max_seconds.high as 7200
	d.ttl_seconds == 7200
}
