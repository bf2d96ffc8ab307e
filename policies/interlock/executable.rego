# Executable parameters and the host's proof that a statement only reads.
#
# A catalogue entry declares which parameters are executable and in which language
# (`executable: {/params/query: sql}`). The host (Interlock) matches the action to its entry,
# checks that no mask hides syntax in those parameters, and parses each SQL parameter with
# PostgreSQL's own parser; it passes what it found as input.analysis:
#   executable   {path: language}, as the host matched the catalogue
#   sql          {path: {read_only, reasons, statements}}
# An action with a SQL parameter is auto-approved only when the host proved every one of them
# read-only. Missing analysis proves nothing: never auto-approved.
package interlock

default declared_executable := {}

declared_executable := entry.executable if is_object(entry.executable)

declared_sql_paths := {path | some path, language in declared_executable; language == "sql"}

default host_analysis := {}

host_analysis := input.analysis if is_object(input.analysis)

# The host's classification of one SQL parameter, when it gave one.
sql_classification(path) := c if {
	c := object.get(object.get(host_analysis, "sql", {}), path, null)
	is_object(c)
}

sql_proven_read_only(path) if sql_classification(path).read_only == true

auto_approve_blockers contains concat("", ["the SQL in ", path, " is not proven read-only: ", sql_reason(path)]) if {
	some path in declared_sql_paths
	not sql_proven_read_only(path)
}

sql_reason(path) := concat("; ", [r | some r in sql_classification(path).reasons; is_string(r)]) if {
	count(object.get(sql_classification(path), "reasons", [])) > 0
}

sql_reason(path) := "the host gave no classification" if not sql_classification(path)

sql_reason(path) := "not proven" if {
	sql_classification(path)
	count(object.get(sql_classification(path), "reasons", [])) == 0
}

# The host checked masks against its own reading of the catalogue: when that differs from the
# policy's, its check may have missed a parameter, so the request is denied.
denials contains "the host and the policy disagree on which parameters are executable: rebuild the policy and retry" if {
	is_object(host_analysis.executable)
	host_analysis.executable != declared_executable
}
