# Behaviour 2: production is recognised from the resource.
package interlock_test

import data.interlock

is_production(resource) if {
	interlock.production with input as input_with(req({"resource": resource}), [], null)
}

test_production_resources if {
	every resource in [
		"postgres://prod/customers",
		"https://api.example.com/prod/x",
		"k8s://prod-eu/ns",
		"postgres://production/customers",
		"postgres://db.prod.internal:5432/app",
		"s3://bucket?env=prod",
		"mysql://admin@PROD/db",
		"postgres://prd/customers",
		"postgres://db-prod/x",
		"mysql://db/customers_prod",
		"k8s://prod1/ns",
		"https://live.example.com/x",
		"k8s://eu-prod/ns",
	] {
		is_production(resource)
	}
}

test_non_production_resources if {
	every resource in [
		"postgres://staging/customers",
		"postgres://db/products",
		"https://api.example.com/productivity",
		"k8s://preprod/ns",
		"postgres://db/productivity",
		"k8s://prodigy/x",
		"",
	] {
		not is_production(resource)
	}
}

test_production_segments_are_configurable if {
	is_production("k8s://live-eu/ns") with data.interlock.catalogue.production.segments as ["live"]
	not is_production("postgres://prod/customers") with data.interlock.catalogue.production.segments as ["live"]
}

test_production_raises_risk_to_the_configured_minimum if {
	d := decide(req({"resource": "postgres://prod/customers"}))
	d.risk == "medium"
	d.why[1] == "the resource is production (prod): risk at least medium"
	d2 := decide(req({"resource": "postgres://prod/customers"})) with data.interlock.catalogue.production.min_risk as "high"
	d2.risk == "high"
}

test_non_production_is_explained if {
	d := decide(base_request)
	d.why[1] == "the resource is not production"
}

# Rego has no NFKC: the host normalises the resource (src/sql/normalize.ts) and the policy
# matches on what it passes. Full-width ＰＲＯＤ, p<zero-width space>rod and db%2Dprod arrive as:
is_production_normalized(normalized) if {
	interlock.production with input as object.union(
		input_with(req({"resource": "opaque"}), [], null),
		{"analysis": {"resource": {"normalized": normalized}}},
	)
}

test_as_the_requester_production_spelled_otherwise_is_still_production if {
	every normalized in [
		"k8s/prod/ns",
		"postgres/db/prod/x",
		"mysql/customers/prod",
		"postgres/prd1/x",
		"https/live/example/com",
	] {
		is_production_normalized(normalized)
	}
	not is_production_normalized("postgres/staging/customers")
}

test_the_host_normalisation_wins_over_the_raw_resource if {
	# The raw text looks harmless; what the host read after NFKC is production.
	is_production_normalized("k8s/prod/ns")
}

test_as_the_requester_a_production_name_glued_to_another_word_is_production if {
	every resource in [
		"postgres://proddb/customers",
		"postgres://prodcluster.internal/customers",
		"postgres://productiondb/customers",
		"postgres://eu1prod/customers",
		"postgres://prodeu/customers",
		"postgres://pr0d/customers",
		"postgres://prod01a/customers",
		"https://1ive.example.com/x",
	] {
		is_production(resource)
	}
}

test_ordinary_words_that_contain_a_name_are_not_production if {
	every resource in [
		"postgres://db/products",
		"k8s://preprod/ns",
		"k8s://nonprod/ns",
		"https://delivery.example.com/x",
		"k8s://ns/livenessprobe",
	] {
		not is_production(resource)
	}
}

test_as_the_requester_a_production_schema_in_the_sql_is_production if {
	request := req({"resource": "postgres://staging/products"})
	analysis := {"sql": {"/params/query": {"read_only": true, "reasons": [], "statements": 1, "qualifiers": ["live/db", "public"]}}}
	interlock.production with input as object.union(input_with(request, [], null), {"analysis": analysis})
	other := {"sql": {"/params/query": {"read_only": true, "reasons": [], "statements": 1, "qualifiers": ["public", "analytics"]}}}
	not interlock.production with input as object.union(input_with(request, [], null), {"analysis": other})
}
