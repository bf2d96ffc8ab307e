# Auto-approval of SQL needs the host's proof that the statement only reads.
package interlock_test

import data.interlock

# The input with the host's analysis replaced (object.union alone would merge into it).
with_analysis(request, analysis) := object.union(
	object.remove(input_with(request, [], null), ["analysis"]),
	{"analysis": analysis},
)

decide_with_sql(request, classification) := d if {
	d := interlock.decision with input as with_analysis(
		request,
		{"executable": {"/params/query": "sql"}, "sql": {"/params/query": classification}},
	)
}

test_db_query_proven_read_only_is_auto_approved if {
	d := decide_with_sql(base_request, {"read_only": true, "reasons": [], "statements": 1})
	d.auto_approve == true
}

test_as_the_requester_a_writing_statement_is_not_auto_approved if {
	d := decide_with_sql(
		req({"params": {"query": "delete from customers"}}),
		{"read_only": false, "reasons": ["DELETE is not a read-only statement"], "statements": 1},
	)
	d.allow == true
	d.auto_approve == false
	group_names(d) == ["data-stewards"]
	explains(d, "the SQL in /params/query is not proven read-only: DELETE is not a read-only statement")
}

test_as_the_requester_unparseable_sql_is_not_auto_approved if {
	d := decide_with_sql(base_request, {"read_only": false, "reasons": ["the SQL does not parse"], "statements": 0})
	d.auto_approve == false
}

test_as_the_requester_missing_analysis_proves_nothing if {
	d := interlock.decision with input as object.remove(input_with(base_request, [], null), ["analysis"])
	d.auto_approve == false
	explains(d, "the host gave no classification")
}

test_as_the_requester_a_classification_for_another_path_proves_nothing if {
	d := interlock.decision with input as with_analysis(
		base_request,
		{"executable": {"/params/query": "sql"}, "sql": {"/params/sql": {"read_only": true}}},
	)
	d.auto_approve == false
}

test_a_truthy_but_not_true_read_only_is_not_proof if {
	d := decide_with_sql(base_request, {"read_only": "yes", "reasons": [], "statements": 1})
	d.auto_approve == false
}

test_the_host_and_the_policy_disagreeing_on_executable_parameters_denies if {
	d := interlock.decision with input as with_analysis(base_request, {"executable": {}, "sql": {}})
	d.allow == false
	denies(d, "disagree on which parameters are executable")
}

test_db_query_and_db_export_declare_their_query_as_sql if {
	data.interlock.catalogue.actions["db.query"].executable == {"/params/query": "sql"}
	data.interlock.catalogue.actions["db.export"].executable == {"/params/query": "sql"}
}
