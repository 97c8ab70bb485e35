//! `/metrics` in the Prometheus text format: requests and latency by route, Hrana statements,
//! pool usage, the tenant caches, and statement errors by `ErrorKind`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::App;
use super::auth::Caller;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Debug, Default, Clone, Copy)]
struct RouteStats {
    count: u64,
    sum_secs: f64,
    buckets: [u64; BUCKETS.len()],
}

/// Request counters, keyed by (method, route template, status).
#[derive(Debug, Default)]
pub(crate) struct HttpMetrics {
    by_route: Mutex<BTreeMap<(String, String, u16), RouteStats>>,
}

impl HttpMetrics {
    fn record(&self, method: String, route: String, status: u16, secs: f64) {
        let mut map = self.by_route.lock().unwrap_or_else(|e| e.into_inner());
        let entry = map.entry((method, route, status)).or_default();
        entry.count += 1;
        entry.sum_secs += secs;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                entry.buckets[i] += 1;
            }
        }
    }
}

/// Counts every request under its route template (`/api/databases/{db}/tables`), so that
/// the number of series stays bounded whatever the paths.
pub(crate) async fn track(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    app.http.record(
        method,
        route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

pub(crate) async fn render(State(app): State<Arc<App>>, caller: Caller) -> Response {
    if let Err(refused) = caller.require_admin() {
        return refused.into_response();
    }
    let mut out = String::new();
    out.push_str("# HELP dbx_http_requests_total HTTP requests by method, route and status.\n");
    out.push_str("# TYPE dbx_http_requests_total counter\n");
    let snapshot: Vec<((String, String, u16), RouteStats)> = {
        let map = app.http.by_route.lock().unwrap_or_else(|e| e.into_inner());
        map.iter().map(|(k, v)| (k.clone(), *v)).collect()
    };
    for ((method, route, status), stats) in &snapshot {
        let _ = writeln!(
            out,
            "dbx_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {}",
            escape(route),
            stats.count
        );
    }
    out.push_str("# HELP dbx_http_request_duration_seconds Request latency by route.\n");
    out.push_str("# TYPE dbx_http_request_duration_seconds histogram\n");
    let mut by_route: BTreeMap<&str, RouteStats> = BTreeMap::new();
    for ((_, route, _), stats) in &snapshot {
        let e = by_route.entry(route).or_default();
        e.count += stats.count;
        e.sum_secs += stats.sum_secs;
        for (total, n) in e.buckets.iter_mut().zip(stats.buckets) {
            *total += n;
        }
    }
    for (route, stats) in &by_route {
        let route = escape(route);
        for (bound, n) in BUCKETS.iter().zip(stats.buckets) {
            let _ = writeln!(
                out,
                "dbx_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {n}"
            );
        }
        let (count, sum) = (stats.count, stats.sum_secs);
        let _ = writeln!(
            out,
            "dbx_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "dbx_http_request_duration_seconds_sum{{route=\"{route}\"}} {sum}"
        );
        let _ = writeln!(
            out,
            "dbx_http_request_duration_seconds_count{{route=\"{route}\"}} {count}"
        );
    }

    let hrana = app.hrana.stats();
    out.push_str("# HELP dbx_hrana_statements_total Statements run through the Hrana server.\n");
    out.push_str("# TYPE dbx_hrana_statements_total counter\n");
    let _ = writeln!(out, "dbx_hrana_statements_total {}", hrana.statements);
    out.push_str("# HELP dbx_hrana_streams_open Hrana streams open now (HTTP and WebSocket).\n");
    out.push_str("# TYPE dbx_hrana_streams_open gauge\n");
    let _ = writeln!(out, "dbx_hrana_streams_open {}", hrana.streams_open);
    out.push_str("# HELP dbx_hrana_writes_total Hrana statements that may write.\n");
    out.push_str("# TYPE dbx_hrana_writes_total counter\n");
    let _ = writeln!(out, "dbx_hrana_writes_total {}", hrana.writes);

    let stats = app.service.stats();
    out.push_str("# HELP dbx_queries_total Statements run through the service's handles.\n");
    out.push_str("# TYPE dbx_queries_total counter\n");
    let _ = writeln!(out, "dbx_queries_total {}", stats.queries);
    out.push_str("# HELP dbx_errors_total Failed statements by error kind.\n");
    out.push_str("# TYPE dbx_errors_total counter\n");
    for (kind, n) in &stats.errors {
        let _ = writeln!(out, "dbx_errors_total{{kind=\"{}\"}} {n}", escape(kind));
    }
    out.push_str("# HELP dbx_tenants_created_total Tenants created.\n");
    out.push_str("# TYPE dbx_tenants_created_total counter\n");
    let _ = writeln!(out, "dbx_tenants_created_total {}", stats.tenants_created);
    for (name, help, kind) in [
        (
            "dbx_tenant_cache_open",
            "Tenants open in the cache.",
            "gauge",
        ),
        (
            "dbx_tenant_cache_hits_total",
            "Tenant lookups that found it open.",
            "counter",
        ),
        (
            "dbx_tenant_cache_misses_total",
            "Tenant lookups that opened it.",
            "counter",
        ),
        (
            "dbx_tenant_cache_evictions_total",
            "Tenants closed by the cache.",
            "counter",
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (adapter, s) in &stats.adapters {
            let value = match name {
                "dbx_tenant_cache_open" => s.open_tenants,
                "dbx_tenant_cache_hits_total" => s.cache_hits,
                "dbx_tenant_cache_misses_total" => s.cache_misses,
                _ => s.cache_evictions,
            };
            let _ = writeln!(out, "{name}{{adapter=\"{adapter}\"}} {value}");
        }
    }
    out.push_str("# HELP dbx_pool_connections Pool connections by state.\n");
    out.push_str("# TYPE dbx_pool_connections gauge\n");
    for health in app.service.health().await {
        let kind = health.kind;
        let _ = writeln!(
            out,
            "dbx_pool_connections{{adapter=\"{kind}\",state=\"in_use\"}} {}",
            health.pool_in_use
        );
        let _ = writeln!(
            out,
            "dbx_pool_connections{{adapter=\"{kind}\",state=\"idle\"}} {}",
            health.pool_idle
        );
        let _ = writeln!(
            out,
            "dbx_pool_connections{{adapter=\"{kind}\",state=\"max\"}} {}",
            health.pool_max
        );
        let _ = writeln!(
            out,
            "dbx_adapter_up{{adapter=\"{kind}\"}} {}",
            u8::from(health.ok)
        );
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}
