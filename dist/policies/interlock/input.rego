# The input and the policy data, read defensively.
#
# Every value here is defined whatever the input looks like (a missing or wrongly typed field
# gets an empty default), so the decision never becomes undefined. denials.rego turns missing
# or malformed fields into denials.
package interlock

# --- Policy data (catalogue/data.yaml) ---------------------------------------------------------

default config := {}

config := data.interlock.catalogue if is_object(data.interlock.catalogue)

# setting(path, fallback) reads a tunable, e.g. setting(["exports", "outside"], "escalate").
# The fallback only matters when the data file lacks the key; it is always the safe choice.
setting(path, fallback) := object.get(config, path, fallback)

# table(path) reads a tunable that must be an object; anything else reads as {}.
table(path) := t if {
	t := setting(path, {})
	is_object(t)
}

table(path) := {} if not is_object(setting(path, {}))

# list(path, fallback) reads a tunable list of non-empty strings.
list(path, fallback) := [s | some s in setting(path, fallback); is_string(s); s != ""]

# --- The request -------------------------------------------------------------------------------

default request := {}

request := input.request if request_given

request_given if is_object(input.request)

# The action, lower-cased for matching against the catalogue.
default action := ""

action := lower(request.action) if is_string(request.action)

default resource := ""

resource := request.resource if is_string(request.resource)

default params := {}

params := request.params if is_object(request.params)

default requester := {}

requester := request.requester if is_object(request.requester)

# --- Findings ----------------------------------------------------------------------------------

# All findings as submitted (an empty list when input.findings is not a list).
default submitted_findings := []

submitted_findings := input.findings if findings_given

findings_given if is_array(input.findings)

# The well-formed findings: these drive classification, risk and masks. A malformed finding
# still blocks auto-approval and is denied (denials.rego).
findings := [f | some f in submitted_findings; well_formed_finding(f)]

well_formed_finding(f) if {
	is_object(f)
	is_string(f.type)
	is_string(f.kind)
	is_string(f.path)
}

# --- Context -----------------------------------------------------------------------------------

default context := {}

context := input.context if is_object(input.context)

# A note on `not`: in `not f(x.y)`, an undefined x.y makes the whole expression undefined rather
# than true. So negated checks read fields with object.get(x, "y", null), or negate a named rule.
