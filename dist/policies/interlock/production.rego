# Whether the request's resource is production.
#
# The host normalises the resource for matching (input.analysis.resource.normalized): percent-
# decoded, invisible characters removed, NFKC, case-folded, and every run of characters that are
# neither letters nor digits turned into "/". Rego has no NFKC, so without the host's analysis
# the resource is only lower-cased and split at the usual separators.
#
# A segment is production when a configured name (production.segments: prod, prd, production,
# live by default) occurs in it, alone or glued to other letters or digits, outside an ordinary
# word (production.ordinary_words). So postgres://prod/customers, postgres://db-prod/x,
# mysql://customers_prod, k8s://ｐｒｏｄ/ns, postgres://proddb/x, postgres://eu1prod/x,
# postgres://pr0d/x and https://live.example.com are production; postgres://staging/customers,
# k8s://preprod/ns and postgres://db/products are not.
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

# A segment names production when a configured name occurs anywhere in it (prod, prod1,
# proddb, prodcluster, eu1prod, prod01a), also with the digits 0 and 1 read as the letters
# they imitate (pr0d, 1ive), unless that occurrence lies inside an ordinary word that merely
# contains the name (production.ordinary_words: product, prodigy, preprod, deliver, ...).
# So products, productivity and preprod are not production, but productiondb is: "production"
# occurs in it outside any ordinary word.
names_production(segment, name) if {
	some variant in segment_readings(segment)
	some at in occurrences(variant, name)
	not inside_ordinary_word(variant, at, count(name))
}

# The segment as written and with digit look-alikes read as letters (0 → o, 1 → l or i).
segment_readings(segment) := {
	segment,
	strings.replace_n({"0": "o", "1": "l"}, segment),
	strings.replace_n({"0": "o", "1": "i"}, segment),
}

ordinary_words := [lower(w) | some w in list(["production", "ordinary_words"], default_ordinary_words)]

default_ordinary_words := [
	"product", "prodig", "preprod", "nonprod", "reproduc", "alive", "olive", "deliver",
	"liver", "lively", "livelihood", "liveness", "sliver", "oliver",
]

# Where `part` occurs in `s` (indexof_n is not available to the Wasm host).
occurrences(s, part) := {at |
	count(s) >= count(part)
	some at in numbers.range(0, count(s) - count(part))
	substring(s, at, count(part)) == part
}

# The occurrence [at, at + n) of a name lies within an occurrence of an ordinary word.
inside_ordinary_word(s, at, n) if {
	some word in ordinary_words
	some start in occurrences(s, word)
	start <= at
	at + n <= start + count(word)
}

# Production named inside the SQL: a schema or database that qualifies a relation
# (prod.customers, production_fdw.users, live_db.public.accounts) reaches production whatever
# the resource says. The host passes them normalised (input.analysis.sql[path].qualifiers).
production_matches contains name if {
	some classification in object.get(object.get(input, "analysis", {}), "sql", {})
	some qualifier in object.get(classification, "qualifiers", [])
	is_string(qualifier)
	some segment in split(qualifier, "/")
	segment != ""
	some name in production_names
	names_production(segment, name)
}

production if count(production_matches) > 0

production_min_risk := valid_risk(setting(["production", "min_risk"], "medium"), "medium")
