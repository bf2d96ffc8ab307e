# Which catalogue entry an action matches, and what the entry says.
package interlock

default actions := {}

actions := config.actions if is_object(config.actions)

# Catalogue keys the action matches: the key itself, or a family the action belongs to
# (`iam.grant` matches `iam.grant.role`, not `iam.granted`).
matching_keys contains key if {
	some key, _ in actions
	in_family(action, key)
}

in_family(name, key) if name == key

in_family(name, key) if startswith(name, concat("", [key, "."]))

# The most specific match wins: the longest matching key. Two distinct keys of the same length
# cannot both match one action, so this is unique.
catalogue_key := key if {
	some key in matching_keys
	count(key) == max({count(k) | some k in matching_keys})
}

catalogued if is_string(catalogue_key)

# The matched entry ({} when the action is not catalogued).
default entry := {}

entry := actions[catalogue_key] if is_object(actions[catalogue_key])

# A catalogue flag: true only when the entry sets it to exactly true.
flag(name) if entry[name] == true

# --- Base risk and owner -----------------------------------------------------------------------

risk_levels := ["low", "medium", "high", "critical"]

# rank("low") = 0 ... rank("critical") = 3.
rank(level) := i if risk_levels[i] == level

# valid_risk(level, fallback): level when it names a risk level, otherwise fallback.
valid_risk(level, _) := level if level in risk_levels

valid_risk(level, fallback) := fallback if not level in risk_levels

# Risk and owner of an action that is not catalogued.
default_risk := valid_risk(setting(["defaults", "risk"], "high"), "high")

default_owner := setting(["defaults", "owner"], "security")

# The catalogue's risk for the action, before findings, production or exports raise it.
default base_risk := "high"

base_risk := valid_risk(object.get(entry, "risk", null), default_risk) if catalogued

base_risk := default_risk if not catalogued

# The group that owns (must approve) the action.
default owner := "security"

owner := entry.owner if {
	catalogued
	is_string(entry.owner)
}

owner := default_owner if {
	catalogued
	not is_string(object.get(entry, "owner", null))
}

owner := default_owner if not catalogued
