# Interlock default policy: the entrypoint.
#
# `decision` says whether a request may become an approvable proposal, how risky it is, which
# data classes it touches, who must approve it, what must be masked before anything is written
# down, how long an approval stays valid, and why. It is always defined: missing or malformed
# input becomes a denial with a reason, never an undefined decision.
#
# Everything a team tunes lives in data (catalogue/data.yaml, i.e. data.interlock.catalogue).
# The rules are split by concern:
#   input.rego       the request, findings and data, read defensively
#   catalogue.rego   which catalogue entry an action matches; its risk, owner and flags
#   production.rego  whether the resource is production
#   findings.rego    what detector findings add: classification, risk, masks
#   exports.rego     the destination allow-list for exports
#   grants.rego      self-grant protection for actions that grant privileges
#   risk.rego        the final risk, approval groups, auto-approval and TTL
#   denials.rego     every reason to deny
#   why.rego         the explanation a reviewer reads
package interlock

decision := object.union(decision_fields, readable_fields)

# The grantees of an action that grants privileges stay readable (not masked as personal data;
# secrets still are): a reviewer approving a role must see who receives it.
readable_fields := {"readable": sort([concat("/", ["", "params", field]) | some field in present_grantee_params])} if {
	grants_privileges
	count(present_grantee_params) > 0
}

else := {}

decision_fields := {
	"allow": allow,
	"deny": sort(denials),
	"risk": risk,
	"classification": sort(classification),
	"auto_approve": auto_approve,
	"approvals": {"groups": approval_groups},
	"mask": masks,
	"ttl_seconds": ttl_seconds,
	"why": why,
}

# A request is allowed exactly when nothing denies it.
default allow := false

allow if count(denials) == 0
