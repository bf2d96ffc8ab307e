# What detector findings add to a request: data classes, a risk floor and masks.
# Findings never carry the matched text, and nothing here repeats any request value.
package interlock

# The finding kinds present, e.g. {"pii", "secret"}.
finding_kinds := {f.kind | some f in findings}

# How a kind of finding is treated (findings.<kind> in data). A kind without an entry is
# treated like a secret, the strictest.
finding_rule(kind) := rule if {
	rule := table(["findings", kind])
	rule != {}
}

finding_rule(kind) := strictest_finding_rule if table(["findings", kind]) == {}

default strictest_finding_rule := {"classification": "secret", "min_risk": "critical"}

strictest_finding_rule := table(["findings", "secret"]) if table(["findings", "secret"]) != {}

# The lowest risk a request with this kind of finding can have.
finding_min_risk(kind) := valid_risk(object.get(finding_rule(kind), "min_risk", "critical"), "critical")

# The finding types of one kind, e.g. finding_types("pii") = {"email", "phone"}.
finding_types(kind) := {f.type | some f in findings; f.kind == kind}

# How many findings of this kind and type.
finding_count(kind, type) := count([f | some f in findings; f.kind == kind; f.type == type])

# --- Classification ----------------------------------------------------------------------------

# Data classes of the request: from findings (pii, secret) and from the catalogue entry
# (e.g. financial, credentials).
classification contains class if {
	some kind in finding_kinds
	class := finding_rule(kind).classification
	is_string(class)
}

classification contains class if {
	some class in object.get(entry, "classification", [])
	is_string(class)
}

classification contains entry.classification if is_string(entry.classification)

# --- Masks -------------------------------------------------------------------------------------

mask_strategies := ["redact", "partial", "hash", "drop"]

# The strategy for a finding: masking.by_type[type], else masking.by_kind[kind], else redact.
# An unknown strategy becomes redact.
mask_strategy(f) := s if {
	s := configured_strategy(f)
	s in mask_strategies
}

mask_strategy(f) := "redact" if not configured_strategy(f) in mask_strategies

configured_strategy(f) := object.get(
	table(["masking", "by_type"]), f.type,
	object.get(table(["masking", "by_kind"]), f.kind, "redact"),
)

# [path, strategy, type] triples: one per finding (the mask applies to that finding type only,
# so an e-mail and a phone number in one string can be masked differently), plus the entry's
# own extra masks (type "": the whole field, whatever is in it).
mask_triples contains [f.path, mask_strategy(f), f.type] if some f in findings

mask_triples contains [m.path, strategy, ""] if {
	some m in object.get(entry, "mask", [])
	is_object(m)
	is_string(m.path)
	strategy := valid_strategy(object.get(m, "strategy", "redact"))
}

valid_strategy(s) := s if s in mask_strategies

valid_strategy(s) := "redact" if not s in mask_strategies

# Distinct masks. Not sorted here: sort() is quadratic in OPA's Wasm runtime (a request with
# 8,000 findings took seconds); the engine sorts them by path, then strategy, then type.
masks := [mask_entry(t) | some t in mask_triples]

mask_entry(t) := {"path": t[0], "strategy": t[1]} if t[2] == ""

mask_entry(t) := {"path": t[0], "strategy": t[1], "type": t[2]} if t[2] != ""
