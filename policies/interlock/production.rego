# Whether the request's resource is production.
#
# The host normalises the resource for matching (input.analysis.resource.normalized): percent-
# decoded, invisible characters removed, NFKC, case-folded, and every run of characters that are
# neither letters nor digits turned into "/". Rego has no NFKC, so without the host's analysis
# the resource is only lower-cased and split at the usual separators.
#
# A segment is production when it equals a configured name (production.segments: prod, prd,
# production, live by default) or is the name followed by digits (prod1, prd02). So
# postgres://prod/customers, postgres://db-prod/x, mysql://customers_prod, k8s://ｐｒｏｄ/ns and
# https://live.example.com are production; postgres://staging/customers, k8s://preprod/ns and
# postgres://db/products are not.
package interlock

production_names := [lower(name) | some name in list(["production", "segments"], ["prod", "prd", "production", "live"])]

default normalized_resource := ""

normalized_resource := input.analysis.resource.normalized if is_string(input.analysis.resource.normalized)

normalized_resource := separators_to_slashes(lower(resource)) if not is_string(object.get(object.get(object.get(input, "analysis", {}), "resource", {}), "normalized", null))

# The resource's segments, e.g. {"postgres", "db", "prod", "customers"}.
resource_segments := {segment |
	some segment in split(normalized_resource, "/")
	segment != ""
}

# Turns each separator : . @ ? # = & - _ + and blanks into "/", so one split finds every segment.
separators_to_slashes(s) := concat("/", regex.split(`[^a-z0-9]+`, s))

# The configured names the resource matched (e.g. {"prod"}).
production_matches contains name if {
	some segment in resource_segments
	some name in production_names
	names_production(segment, name)
}

names_production(segment, name) if segment == name

# prod1, prd02: the name followed by digits only.
names_production(segment, name) if {
	startswith(segment, name)
	suffix := substring(segment, count(name), -1)
	suffix != ""
	trim_left(suffix, "0123456789") == ""
}

production if count(production_matches) > 0

production_min_risk := valid_risk(setting(["production", "min_risk"], "medium"), "medium")
