# Behaviour 6: exports must go to an allowed destination.
package interlock_test

export_request(destination) := req({
	"action": "db.export",
	"resource": "postgres://db/customers",
	"params": {"query": "select id from customers", "destination": destination},
})

test_export_inside_allow_list_is_allowed_at_catalogue_risk if {
	d := decide(export_request("s3://analytics-exports/churn/"))
	d.allow == true
	d.risk == "high"
	group_names(d) == ["data-stewards"]
	explains(d, "the destination is inside the export allow-list (s3://analytics-exports/)")
}

test_export_outside_allow_list_escalates_to_critical_by_default if {
	d := decide(export_request("s3://somewhere-else/dump/"))
	d.allow == true
	d.risk == "critical"
	group_names(d) == ["data-stewards", "security"]
	explains(d, "outside the export allow-list: escalated to critical")
}

test_export_outside_allow_list_denied_when_configured if {
	d := decide(export_request("s3://somewhere-else/dump/")) with data.interlock.catalogue.exports.outside as "deny"
	d.allow == false
	"params.destination is outside the export allow-list" in d.deny
	d.risk == "high"
}

test_unknown_outside_handling_denies if {
	d := decide(export_request("s3://somewhere-else/dump/")) with data.interlock.catalogue.exports.outside as "warn"
	d.allow == false
}

test_export_prefix_boundary if {
	d := decide(export_request("s3://analytics-exports-public/dump/"))
	d.risk == "critical"
}

test_export_destination_with_dot_dot_is_outside if {
	d := decide(export_request("s3://analytics-exports/../secret-bucket/"))
	d.risk == "critical"
}

test_export_allow_list_is_configurable if {
	d := decide(export_request("gs://lake/exports/x")) with data.interlock.catalogue.exports.allowed_destination_prefixes as ["gs://lake/exports/"]
	d.risk == "high"
}

test_export_without_destination_is_denied if {
	d := decide(req({"action": "db.export", "resource": "postgres://db/customers", "params": {"query": "select 1"}}))
	d.allow == false
	"db.export is an export and needs params.destination" in d.deny
	explains(d, "the export names no destination: denied")
}

test_export_with_non_string_destination_is_denied if {
	d := decide(export_request(["s3://analytics-exports/x/"]))
	d.allow == false
}

test_non_export_ignores_destination if {
	d := decide(req({"action": "infra.apply", "params": {"destination": "s3://elsewhere/"}}))
	d.allow == true
	d.risk == "high"
	not explains(d, "export allow-list")
}
