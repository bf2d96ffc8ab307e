# Behaviour 7: a requester may not grant privileges to itself or to its sponsor.
package interlock_test

import data.interlock

grant(params) := req({"action": "iam.grant", "resource": "aws://staging/iam", "params": params})

test_grant_to_someone_else_is_allowed if {
	d := decide(grant({"principal": "user:bob", "role": "reader"}))
	d.allow == true
	d.risk == "high"
	group_names(d) == ["security"]
	explains(d, "the grantee is neither the requester nor the human it acts for")
}

test_grant_to_the_requester_is_denied if {
	d := decide(grant({"principal": "agent:etl-bot", "role": "admin"}))
	d.allow == false
	denies(d, "self-grant")
}

test_grant_to_the_sponsor_is_denied if {
	d := decide(grant({"grantee": "user:Alice", "role": "admin"}))
	d.allow == false
	denies(d, "self-grant")
}

test_grantee_comparison_is_normalised if {
	every grantee in ["ETL-BOT", "user:etl-bot", " alice ", "@alice", "group:ALICE"] {
		d := decide(grant({"member": grantee}))
		d.allow == false
	}
}

test_every_grantee_field_is_checked if {
	d := decide(grant({"principal": "bob", "user": "alice"}))
	d.allow == false
}

test_grant_family_member_is_checked if {
	d := decide(req({"action": "iam.grant.role", "params": {"principal": "alice"}}))
	d.allow == false
}

test_missing_grantee_is_denied if {
	d := decide(grant({"role": "admin"}))
	d.allow == false
	"iam.grant grants privileges and needs the grantee in params.principal, params.grantee, params.member, params.user" in d.deny
}

test_empty_grantee_is_denied if {
	d := decide(grant({"principal": "user:"}))
	d.allow == false
}

test_non_string_grantee_is_denied if {
	d := decide(grant({"principal": ["alice"]}))
	d.allow == false
	"params.principal must be a string naming the grantee" in d.deny
}

test_grant_without_on_behalf_of if {
	request := object.union(object.remove(grant({"principal": "alice"}), ["requester"]), {"requester": {"id": "agent:etl-bot", "kind": "agent"}})
	d := decide(request)
	d.allow == true
}

test_non_grant_actions_are_not_checked if {
	d := decide(req({"action": "infra.apply", "params": {"principal": "agent:etl-bot"}}))
	d.allow == true
}

# Identities resolved by the host (input.identity): every name of the requester and its sponsor,
# and the groups either belongs to.
etl_identity := {
	"requester": {"id": "agent:etl-bot", "aliases": ["agent:etl-bot", "etl-bot", "serviceaccount:etl@acme-data.iam.example", "etl@acme-data.iam.example"]},
	"sponsor": {"id": "alice", "aliases": ["alice", "alice@acme.example", "github:alice-gh", "alice-gh"]},
	"groups": ["acme/platform", "platform"],
}

decide_as(request, identity) := d if {
	d := interlock.decision with input as object.union(input_with(request, [], null), {"identity": identity})
}

test_grant_to_the_sponsors_email_is_denied if {
	d := decide_as(grant({"principal": "user:Alice@ACME.example", "role": "admin"}), etl_identity)
	d.allow == false
	denies(d, "self-grant")
}

test_grant_to_the_sponsors_other_login_is_denied if {
	d := decide_as(grant({"member": "github:alice-gh"}), etl_identity)
	d.allow == false
}

test_grant_to_the_agents_cloud_identity_is_denied if {
	d := decide_as(grant({"principal": "serviceAccount:etl@acme-data.iam.example"}), etl_identity)
	d.allow == false
	denies(d, "self-grant")
}

test_grant_to_a_group_of_the_sponsor_is_denied if {
	every grantee in ["group:platform", "@acme/platform", "Platform"] {
		d := decide_as(grant({"principal": grantee}), etl_identity)
		d.allow == false
	}
}

test_grant_to_someone_else_with_identity_is_allowed if {
	d := decide_as(grant({"principal": "user:bob@acme.example"}), etl_identity)
	d.allow == true
}

test_grant_with_a_sponsor_alias_only_known_to_the_host_is_denied if {
	# The request names no on_behalf_of; the host's resolution still knows the sponsor.
	request := object.union(object.remove(grant({"principal": "alice-gh"}), ["requester"]), {"requester": {"id": "agent:etl-bot", "kind": "agent"}})
	d := decide_as(request, etl_identity)
	d.allow == false
}

# The host's skeletons of every string in params: a grantee in an unnamed field (an array
# under `members`, a `Grantee` key) or spelled with look-alikes is still checked.
test_a_grantee_in_any_field_the_host_reads_is_checked if {
	request := grant({"grantee": "bob", "members": ["\u0430lice"]})
	analysis := object.union(host_analysis(request), {"principals": ["alice", "bob"]})
	d := interlock.decision with input as object.union(input_with(request, [], null), {"analysis": analysis})
	d.allow == false
	denies(d, "self-grant")
}

test_other_strings_in_params_are_not_a_self_grant if {
	request := grant({"grantee": "bob", "role": "reader"})
	analysis := object.union(host_analysis(request), {"principals": ["bob", "reader"]})
	d := interlock.decision with input as object.union(input_with(request, [], null), {"analysis": analysis})
	d.allow == true
}

test_the_grantee_stays_readable_for_the_reviewer if {
	d := decide(grant({"grantee": "mallory@evil.example", "role": "owner"}))
	d.readable == ["/params/grantee"]
	not decide(req({})).readable
}
