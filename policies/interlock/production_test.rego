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
		"k8s://eu-prod/ns",
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
