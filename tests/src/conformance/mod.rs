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
