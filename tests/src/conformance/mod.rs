//! Backend-generic test bodies. Every backend's test binary runs all of them through
//! [`conformance_tests!`], unchanged.

pub mod batch;
pub mod concurrency;
pub mod errors;
pub mod introspection;
pub mod lifecycle;
pub mod limits;
pub mod params;
pub mod sessions;
pub mod tenants;
pub mod transactions;
pub mod values;

/// Expands to one `#[tokio::test]` per conformance body, for the given harness type.
#[macro_export]
macro_rules! conformance_tests {
    ($harness:ident) => {
        $crate::conformance_tests!(@expand $harness;
            values {
                every_variant_round_trips,
                large_blob_round_trips,
                typed_getters_by_index_and_name,
                table_columns_report_decltypes,
            }
            params {
                positional_arguments,
                named_arguments_with_and_without_sigil,
                numbered_positions_with_holes,
                a_name_used_twice,
                missing_arguments_are_errors,
                surplus_arguments_are_errors,
                placeholders_in_literals_are_text,
            }
            transactions {
                commit_makes_work_visible,
                rollback_discards_work,
                nested_savepoint_rolls_back_alone,
                released_savepoint_commits_with_outer,
                dropped_transaction_rolls_back,
                dropped_savepoint_rolls_back_alone,
                uncommitted_work_is_invisible_outside,
                pooled_adapter_refuses_transaction_control,
            }
            batch {
                failing_third_statement_leaves_nothing,
                batch_returns_each_result,
            }
            errors {
                unique_violation,
                foreign_key_violation,
                not_null_violation,
                check_violation,
                syntax_error,
                undefined_table,
                undefined_column,
            }
            concurrency {
                concurrent_inserts_all_land,
                reads_during_writes_see_committed_rows,
            }
            sessions {
                begin_commit_tracks_autocommit,
                sql_rollback_discards,
                dropped_session_rolls_back_and_frees_writers,
                session_transaction_api,
                session_batch_is_atomic,
                a_failed_statement_leaves_the_transaction_open,
                describe_reports_columns_parameters_and_kind,
                two_sessions_both_in_a_transaction,
            }
            tenants {
                create_list_delete,
                tenants_are_isolated,
                hostile_ids_are_rejected,
                duplicate_create_and_missing_tenant_are_errors,
                recreated_tenant_starts_empty,
                isolation_under_concurrency,
            }
            introspection {
                fixture_schema_comes_back_exactly,
                tables_lists_tables_and_views,
                missing_table_is_undefined_table,
            }
            lifecycle {
                health_reports_latency_and_pool,
                closed_adapter_refuses_work,
            }
            limits {
                a_statement_past_its_timeout_fails_with_timeout,
                rows_past_the_byte_limit_fail_as_they_stream,
                read_only_sessions_refuse_writes_and_read,
                temporary_tables_never_reach_another_caller,
                an_abandoned_statement_gives_its_connection_back,
            }
        );
    };
    (@expand $harness:ident; $($module:ident { $($name:ident),* $(,)? })*) => {
        $(
            mod $module {
                use super::$harness;
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $name() {
                        let harness = <$harness as $crate::Harness>::new().await;
                        $crate::conformance::$module::$name(&harness).await;
                    }
                )*
            }
        )*
    };
}

#[cfg(test)]
mod listed {
    /// A body that no `conformance_tests!` entry names compiles and never runs: every
    /// `pub async fn` of the body modules must be listed, under its own module.
    #[test]
    fn every_body_is_listed_in_the_macro() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/conformance");
        let listing = std::fs::read_to_string(dir.join("mod.rs")).unwrap();
        let mut missing = Vec::new();
        let mut bodies = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let module = path.file_stem().unwrap().to_str().unwrap().to_owned();
            if module == "mod" {
                continue;
            }
            let listed = listed_in(&listing, &module);
            let text = std::fs::read_to_string(&path).unwrap();
            for line in text.lines() {
                let Some(rest) = line.strip_prefix("pub async fn ") else {
                    continue;
                };
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                bodies += 1;
                if !listed.contains(&name) {
                    missing.push(format!("{module}::{name}"));
                }
            }
        }
        assert!(
            bodies > 50,
            "found only {bodies} bodies: is the scan still right?"
        );
        assert!(
            missing.is_empty(),
            "conformance bodies that no backend runs; list them in conformance_tests!: {missing:?}"
        );
    }

    /// The names listed in the macro under `module { ... }`.
    fn listed_in(listing: &str, module: &str) -> Vec<String> {
        let open = format!("            {module} {{");
        let Some(start) = listing.find(&open) else {
            return Vec::new();
        };
        let block = &listing[start + open.len()..];
        let block = &block[..block.find('}').unwrap_or(block.len())];
        block
            .split(',')
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty())
            .collect()
    }
}
