# Self-grant protection (catalogue flag `grants: true`): a requester may not grant privileges
# to itself, to the human it acts for (its sponsor), to any other name of either (login,
# e-mail, agent id, cloud identity), or to a group either belongs to. The host resolves those
# names from the approvals repository's config into input.identity; without it, the
# requester's own fields are all there is. The grantee must be named.
package interlock

grants_privileges if flag("grants")

grantee_params := list(["self_grant", "grantee_params"], ["principal", "grantee", "member", "user"])

# The grantee fields present in params (null counts as absent).
present_grantee_params contains field if {
	some field in grantee_params
	params[field] != null
}

# Present grantee fields that are not a string: the grantee cannot be checked.
malformed_grantee_params contains field if {
	some field in present_grantee_params
	not is_string(params[field])
}

# Every grantee named, normalised. All present fields count, so adding a second field cannot
# hide a self-grant.
grantees contains principal if {
	some field in present_grantee_params
	is_string(params[field])
	principal := normalise_principal(params[field])
	principal != ""
}

# The requester and the human it acts for, normalised.
requester_principals contains principal if {
	some field in ["id", "on_behalf_of"]
	is_string(requester[field])
	principal := normalise_principal(requester[field])
	principal != ""
}

# Every other name of the requester and of its sponsor, as resolved by the host.
requester_principals contains principal if {
	some who in ["requester", "sponsor"]
	some alias in input.identity[who].aliases
	is_string(alias)
	principal := normalise_principal(alias)
	principal != ""
}

requester_principals contains principal if {
	some who in ["requester", "sponsor"]
	is_string(input.identity[who].id)
	principal := normalise_principal(input.identity[who].id)
	principal != ""
}

# The groups the requester or its sponsor belongs to ("data-stewards", "acme/data-stewards").
requester_groups contains group if {
	some g in input.identity.groups
	is_string(g)
	group := normalise_principal(g)
	group != ""
}

self_grant if {
	grants_privileges
	some grantee in grantees
	grantee in requester_principals
}

self_grant if {
	grants_privileges
	some grantee in grantees
	grantee in requester_groups
}

# Every string anywhere in params, as a person reads it (the host's skeleton: look-alike
# letters, marks and invisible characters out, e-mail `+tag` dropped), normalised. A grantee
# in a field not named above (`members: [...]`, `Grantee`, `principals`) or spelled with
# look-alikes is still a grantee: the executor receives the whole params object.
param_principals contains principal if {
	grants_privileges
	some s in object.get(object.get(input, "analysis", {}), "principals", [])
	is_string(s)
	principal := normalise_principal(s)
	principal != ""
}

self_grant if {
	grants_privileges
	some principal in param_principals
	principal in requester_principals
}

self_grant if {
	grants_privileges
	some principal in param_principals
	principal in requester_groups
}

grantee_missing if {
	grants_privileges
	count(grantees) == 0
}

# The grantee cannot be checked: none named, or a grantee field that is not a string.
grantee_unusable if grantee_missing

grantee_unusable if {
	grants_privileges
	count(malformed_grantee_params) > 0
}

# normalise_principal: lower-case, trimmed, without a leading `kind:` prefix (agent:, user:,
# group:, ...) and without a leading "@". So "user:Alice", "@alice" and "alice" are equal.
normalise_principal(p) := trim_prefix(trim_space(without_kind(lower(trim_space(p)))), "@")

without_kind(p) := substring(p, indexof(p, ":") + 1, -1) if indexof(p, ":") >= 0

without_kind(p) := p if indexof(p, ":") < 0
