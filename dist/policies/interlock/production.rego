# Whether the request's resource is production.
#
# The resource is split into segments at / : . @ ? # = & and compared lower-case. A segment
# is production when it equals a configured name (default prod, production) or starts with the
# name followed by "-" (prod-eu). So postgres://prod/customers and k8s://prod-eu/ns are
# production; postgres://staging/customers and postgres://db/products are not.
package interlock

production_names := [lower(name) | some name in list(["production", "segments"], ["prod", "production"])]

# The resource's segments, e.g. {"postgres", "prod", "customers"}.
resource_segments := {segment |
	some segment in split(separators_to_slashes(lower(resource)), "/")
	segment != ""
}

# Turns each separator : . @ ? # = & into "/", so one split finds every segment.
separators_to_slashes(s) := s7 if {
	s1 := replace(s, ":", "/")
	s2 := replace(s1, ".", "/")
	s3 := replace(s2, "@", "/")
	s4 := replace(s3, "?", "/")
	s5 := replace(s4, "#", "/")
	s6 := replace(s5, "=", "/")
	s7 := replace(s6, "&", "/")
}

# The configured names the resource matched (e.g. {"prod"}).
production_matches contains name if {
	some segment in resource_segments
	some name in production_names
	names_production(segment, name)
}

names_production(segment, name) if segment == name

names_production(segment, name) if startswith(segment, concat("", [name, "-"]))

production if count(production_matches) > 0

production_min_risk := valid_risk(setting(["production", "min_risk"], "medium"), "medium")
