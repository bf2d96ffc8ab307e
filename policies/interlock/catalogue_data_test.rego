# Checks of the policy data itself (catalogue/data.yaml). They run with every `opa test`, so a
# typo in an edited catalogue fails the tests instead of quietly changing decisions.
package interlock_test

import data.interlock.catalogue

risk_levels := {"low", "medium", "high", "critical"}

strategies := {"redact", "partial", "hash", "drop"}

test_actions_have_a_valid_risk_and_a_defined_owner if {
	every key, entry in catalogue.actions {
		key == lower(key)
		entry.risk in risk_levels
		is_object(catalogue.groups[entry.owner])
	}
}

test_action_flags_are_booleans if {
	every _, entry in catalogue.actions {
		every flag in ["read_only", "auto_approve_non_production", "export", "grants"] {
			is_boolean(object.get(entry, flag, false))
		}
	}
}

test_action_masks_and_classes_are_well_formed if {
	every _, entry in catalogue.actions {
		every m in object.get(entry, "mask", []) {
			startswith(m.path, "/")
			m.strategy in strategies
		}
		every class in object.get(entry, "classification", []) {
			is_string(class)
		}
	}
}

test_groups_have_owners_and_a_valid_min if {
	every _, group in catalogue.groups {
		count(group.owners) > 0
		every owner in group.owners {
			startswith(owner, "@")
		}
		min := object.get(group, "min", 1)
		is_number(min)
		min >= 1
	}
}

test_defaults_are_valid if {
	catalogue.defaults.risk in risk_levels
	is_object(catalogue.groups[catalogue.defaults.owner])
	catalogue.defaults.min_approvals >= 1
	catalogue.defaults.auto_approve_max_risk in risk_levels
	catalogue.production.min_risk in risk_levels
	count(catalogue.production.segments) > 0
}

test_critical_groups_are_defined_and_distinct if {
	is_object(catalogue.groups[catalogue.critical.second_group])
	is_object(catalogue.groups[catalogue.critical.fallback_group])
	catalogue.critical.second_group != catalogue.critical.fallback_group
}

test_findings_and_masking_are_valid if {
	every _, rule in catalogue.findings {
		rule.min_risk in risk_levels
	}
	every _, strategy in catalogue.masking.by_type {
		strategy in strategies
	}
	every _, strategy in catalogue.masking.by_kind {
		strategy in strategies
	}
}

test_every_detector_type_has_a_strategy if {
	every type in [
		"email", "phone", "payment_card", "iban", "us_ssn", "ip_address",
		"jwt", "private_key", "aws_access_key", "aws_secret_key", "github_token",
		"slack_token", "stripe_key", "google_api_key", "generic_secret",
	] {
		catalogue.masking.by_type[type] in strategies
	}
}

test_exports_and_ttl_are_valid if {
	catalogue.exports.outside in {"escalate", "deny"}
	every prefix in catalogue.exports.allowed_destination_prefixes {
		endswith(prefix, "/")
	}
	every level in risk_levels {
		catalogue.ttl.max_seconds[level] >= 1
	}
}
