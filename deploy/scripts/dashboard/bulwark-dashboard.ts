/**
 * The Bulwark Grafana dashboard, as data. `npx tsx --conditions=bulwark-source
 * deploy/scripts/generate-dashboard.ts` writes it to deploy/grafana/bulwark.json; a test fails when
 * the file and this source differ. Every metric it reads must be exported by the gateway (checked by
 * test/ops/metrics-exported.test.ts).
 */
import { layoutPanels, templatingJson, type RowSpec, type ValueMapping, type VariableSpec } from './panels.js';

/** Label matchers of every query: the scrape job and the instances picked in the variables. */
const ON = 'job="$job", instance=~"$instance"';
const RATE = '$__rate_interval';

const BREAKER_STATES: readonly ValueMapping[] = [
  { value: 0, text: 'closed', color: 'green' },
  { value: 1, text: 'half-open', color: 'yellow' },
  { value: 2, text: 'open', color: 'red' },
];

const OK_WARN_BAD = (warn: number, bad: number) => [
  { value: null, color: 'green' },
  { value: warn, color: 'yellow' },
  { value: bad, color: 'red' },
];

const quantiles = (metric: string, by: string, selector: string, legend: string) =>
  [0.5, 0.9, 0.99].map((q) => ({
    expr: `histogram_quantile(${q}, sum by (${by}, le) (rate(${metric}_bucket{${selector}}[${RATE}])))`,
    legend: `${legend} p${Math.round(q * 100)}`,
  }));

const overview: RowSpec = {
  title: 'Overview',
  panels: [
    { kind: 'stat', title: 'Requests', description: 'Requests answered per second, all routes.', unit: 'reqps', width: 4, height: 4, queries: [{ expr: `sum(rate(http_requests_total{${ON}}[${RATE}]))` }] },
    {
      kind: 'stat',
      title: '5xx ratio',
      description: 'Share of responses that are server errors (readiness probes left out). Alert BulwarkHigh5xxRatio: above 5 % on a route for 5 minutes.',
      unit: 'percentunit',
      width: 4,
      height: 4,
      thresholds: OK_WARN_BAD(0.01, 0.05),
      queries: [{ expr: `sum(rate(http_requests_total{${ON}, route!="health", status=~"5.."}[${RATE}])) / sum(rate(http_requests_total{${ON}, route!="health"}[${RATE}]))` }],
    },
    {
      kind: 'stat',
      title: 'p99 latency',
      description: '99th percentile of request duration, all routes but health and metrics. Alert BulwarkHighLatencyP99: above 1 s on a route for 10 minutes.',
      unit: 's',
      width: 4,
      height: 4,
      thresholds: OK_WARN_BAD(0.5, 1),
      queries: [{ expr: `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{${ON}, route!~"health|metrics"}[${RATE}])))` }],
    },
    {
      kind: 'stat',
      title: 'Breakers not closed',
      description: 'Services whose circuit breaker is open or half-open on at least one instance. Alert BulwarkCircuitBreakerOpen.',
      width: 4,
      height: 4,
      thresholds: [{ value: null, color: 'green' }, { value: 1, color: 'red' }],
      queries: [{ expr: `count(max by (service) (circuit_breaker_state{${ON}}) > 0) or vector(0)` }],
    },
    {
      kind: 'stat',
      title: 'Auth failures',
      description: 'Credentials refused per second (requests without any credential left out). Alert BulwarkAuthFailureSpike.',
      unit: 'ops',
      width: 4,
      height: 4,
      thresholds: OK_WARN_BAD(0.2, 1),
      queries: [{ expr: `sum(rate(auth_failures_total{${ON}, reason!="missing"}[${RATE}])) or vector(0)` }],
    },
    {
      kind: 'stat',
      title: 'Instances up',
      description: 'Gateway instances Prometheus scrapes successfully. Alert BulwarkGatewayDown.',
      width: 4,
      height: 4,
      queries: [{ expr: `sum(up{${ON}})`, instant: true }],
    },
  ],
};

const traffic: RowSpec = {
  title: 'Traffic',
  panels: [
    { kind: 'timeseries', title: 'Requests by route', description: 'Requests answered per second, by route (gateway endpoints: health, metrics, admin, csp-report, unmatched).', unit: 'reqps', width: 12, queries: [{ expr: `sum by (route) (rate(http_requests_total{${ON}, route=~"$route"}[${RATE}]))`, legend: '{{route}}' }] },
    { kind: 'timeseries', title: 'Responses by status', description: 'Responses per second by HTTP status: 401/403 authentication, 429 rate limits, 502/503/504 upstreams and breakers.', unit: 'reqps', width: 12, stacked: true, queries: [{ expr: `sum by (status) (rate(http_requests_total{${ON}, route=~"$route"}[${RATE}]))`, legend: '{{status}}' }] },
    {
      kind: 'timeseries',
      title: '5xx ratio by route',
      description: 'Share of server errors per route. The alert threshold (5 %) is drawn.',
      unit: 'percentunit',
      width: 12,
      min: 0,
      showThresholds: true,
      thresholds: [{ value: null, color: 'green' }, { value: 0.05, color: 'red' }],
      queries: [{ expr: `sum by (route) (rate(http_requests_total{${ON}, route=~"$route", route!="health", status=~"5.."}[${RATE}])) / sum by (route) (rate(http_requests_total{${ON}, route=~"$route", route!="health"}[${RATE}]))`, legend: '{{route}}' }],
    },
    { kind: 'timeseries', title: 'Latency by route (p50, p90, p99)', description: 'Time from the request reaching the gateway to the end of its response.', unit: 's', width: 12, queries: quantiles('http_request_duration_seconds', 'route', `${ON}, route=~"$route"`, '{{route}}') },
  ],
};

const rateLimiting: RowSpec = {
  title: 'Rate limiting',
  panels: [
    { kind: 'timeseries', title: 'Decisions by result', description: 'ok, limited (429), shadow (would have been limited), fallback_* (decided on the local store), store_unavailable_* and circuit_open_* (decided without a store, by onStoreFailure).', unit: 'ops', width: 12, stacked: true, queries: [{ expr: `sum by (result) (rate(ratelimit_decisions_total{${ON}, limiter=~"$limiter"}[${RATE}]))`, legend: '{{result}}' }] },
    { kind: 'timeseries', title: 'Rejections by limiter', description: 'Requests refused by each limit (429, or 503 for a fail-closed limit without its store).', unit: 'ops', width: 12, queries: [{ expr: `sum by (limiter) (rate(ratelimit_rejected_total{${ON}, limiter=~"$limiter"}[${RATE}]))`, legend: '{{limiter}}' }] },
    {
      kind: 'timeseries',
      title: 'Fallback, store-unavailable and shadow decisions',
      description: 'Decisions not taken by the shared store as usual. Alerts BulwarkRateLimitFallbackActive and BulwarkRateLimitStoreUnavailable.',
      unit: 'ops',
      width: 8,
      queries: [{ expr: `sum by (limiter, result) (rate(ratelimit_decisions_total{${ON}, limiter=~"$limiter", result=~"fallback_.*|store_unavailable_.*|circuit_open_.*|shadow"}[${RATE}]))`, legend: '{{limiter}} {{result}}' }],
    },
    {
      kind: 'timeseries',
      title: 'Memory store fill',
      description: 'Entries of each bounded in-memory store over its maxSize. Alert BulwarkRateLimitMemoryStoreFilling above 80 %.',
      unit: 'percentunit',
      width: 8,
      min: 0,
      max: 1,
      showThresholds: true,
      thresholds: [{ value: null, color: 'green' }, { value: 0.8, color: 'red' }],
      queries: [{ expr: `max by (instance, store) (ratelimit_memory_store_entries{${ON}} / ratelimit_memory_store_max_size{${ON}})`, legend: '{{instance}} {{store}}' }],
    },
    {
      kind: 'timeseries',
      title: 'Memory store refusals and block-cache hits',
      description: 'New keys refused by a memory store full of limited keys (alert BulwarkRateLimitMemoryStoreSaturated), and requests rejected by the local block cache without asking the store.',
      unit: 'ops',
      width: 8,
      queries: [
        { expr: `sum by (store) (rate(ratelimit_memory_store_saturated_total{${ON}}[${RATE}]))`, legend: 'saturated {{store}}' },
        { expr: `sum by (limiter) (rate(ratelimit_local_block_hits_total{${ON}, limiter=~"$limiter"}[${RATE}]))`, legend: 'block cache {{limiter}}' },
      ],
    },
    { kind: 'timeseries', title: 'Store errors', description: 'Failed calls to the shared store, by kind (timeout, connection, script, error).', unit: 'ops', width: 8, queries: [{ expr: `sum by (store, kind) (rate(ratelimit_store_errors_total{${ON}}[${RATE}]))`, legend: '{{store}} {{kind}}' }] },
    { kind: 'timeseries', title: 'Switches to and from the fallback', description: 'A Redis node moving its keys to the local fallback (to=fallback) and back (to=redis).', width: 8, bars: true, queries: [{ expr: `sum by (node, to) (increase(ratelimit_fallback_transitions_total{${ON}}[${RATE}]))`, legend: '{{node}} → {{to}}' }] },
    { kind: 'timeseries', title: 'Store latency (p50, p99)', description: 'Round trip of one batch to the shared store; calls slower than redis.timeoutMs count as failures.', unit: 's', width: 8, queries: [0.5, 0.99].map((q) => ({ expr: `histogram_quantile(${q}, sum by (store, le) (rate(ratelimit_store_latency_seconds_bucket{${ON}}[${RATE}])))`, legend: `{{store}} p${Math.round(q * 100)}` })) },
  ],
};

const breakers: RowSpec = {
  title: 'Circuit breakers',
  panels: [
    { kind: 'state-timeline', title: 'State per service', description: 'Worst state among the instances: closed, half-open (trial calls), open (calls refused). Alert BulwarkCircuitBreakerOpen.', width: 24, height: 6, mappings: BREAKER_STATES, queries: [{ expr: `max by (service) (circuit_breaker_state{${ON}, service=~"$service"})`, legend: '{{service}}' }] },
    { kind: 'timeseries', title: 'Transitions', description: 'State changes. Repeated closed → open is flapping (alert BulwarkCircuitBreakerFlapping).', width: 8, bars: true, queries: [{ expr: `sum by (service, from, to) (increase(circuit_breaker_state_transitions_total{${ON}, service=~"$service"}[${RATE}]))`, legend: '{{service}} {{from}} → {{to}}' }] },
    { kind: 'timeseries', title: 'Calls by result', description: 'success, failure (counted against the service), ignored (neither), rejected (refused by the open breaker).', unit: 'ops', width: 8, stacked: true, queries: [{ expr: `sum by (service, result) (rate(circuit_breaker_requests_total{${ON}, service=~"$service"}[${RATE}]))`, legend: '{{service}} {{result}}' }] },
    { kind: 'timeseries', title: 'Failures', description: 'Calls the breakers counted as failures: 5xx, timeouts, connection errors.', unit: 'ops', width: 8, queries: [{ expr: `sum by (service) (rate(circuit_breaker_failures_total{${ON}, service=~"$service"}[${RATE}]))`, legend: '{{service}}' }] },
  ],
};

const auth: RowSpec = {
  title: 'Authentication and audit',
  panels: [
    { kind: 'timeseries', title: 'Authentication failures by reason', description: 'Refused credentials by scheme and reason: missing, malformed (bad checksum: guessed or truncated keys), invalid (unknown key or bad signature), expired, revoked.', unit: 'ops', width: 12, stacked: true, queries: [{ expr: `sum by (scheme, reason) (rate(auth_failures_total{${ON}}[${RATE}]))`, legend: '{{scheme}} {{reason}}' }] },
    {
      kind: 'timeseries',
      title: 'Failure share of requests',
      description: 'Refused credentials (missing left out) over all requests. Alert BulwarkAuthFailureSpike above 10 % and 1/s.',
      unit: 'percentunit',
      width: 6,
      min: 0,
      showThresholds: true,
      thresholds: [{ value: null, color: 'green' }, { value: 0.1, color: 'red' }],
      queries: [{ expr: `sum(rate(auth_failures_total{${ON}, reason!="missing"}[${RATE}])) / sum(rate(http_requests_total{${ON}}[${RATE}]))`, legend: 'failures / requests' }],
    },
    { kind: 'timeseries', title: 'CORS rejections', description: 'Cross-origin requests refused, by route and reason (origin, method).', unit: 'ops', width: 6, queries: [{ expr: `sum by (route, reason) (rate(cors_rejected_total{${ON}}[${RATE}]))`, legend: '{{route}} {{reason}}' }] },
    { kind: 'timeseries', title: 'API key cache', description: 'Verifier cache lookups: hit, negative_hit (a known-bad key), miss (goes to the key store), stale (served past its TTL because the key store failed: the database is down). Many misses with many failures: keys are being guessed.', unit: 'ops', width: 8, stacked: true, queries: [{ expr: `sum by (result) (rate(api_key_cache_lookups_total{${ON}}[${RATE}]))`, legend: '{{result}}' }] },
    { kind: 'timeseries', title: 'Audit entries by outcome', description: 'Entries appended to the tamper-evident audit log: success, failure, denied.', width: 8, bars: true, queries: [{ expr: `sum by (outcome) (increase(audit_entries_total{${ON}}[${RATE}]))`, legend: '{{outcome}}' }] },
    {
      kind: 'stat',
      title: 'Audit chain',
      description: 'Result of the last audit chain verification on each instance (1 valid, 0 broken). Alert BulwarkAuditVerificationFailed.',
      width: 8,
      mappings: [
        { value: 1, text: 'valid', color: 'green' },
        { value: 0, text: 'BROKEN', color: 'red' },
      ],
      thresholds: [{ value: null, color: 'red' }, { value: 1, color: 'green' }],
      queries: [{ expr: `min by (instance) (audit_chain_valid{${ON}})`, legend: '{{instance}}', instant: true }],
    },
  ],
};

const upstreams: RowSpec = {
  title: 'Upstreams',
  panels: [
    {
      kind: 'timeseries',
      title: 'Failure ratio by upstream',
      description: 'Failed calls over calls that reached the upstream (refusals by the breaker left out). Alert BulwarkUpstreamUnavailable when failures and refusals pass 90 %.',
      unit: 'percentunit',
      width: 12,
      min: 0,
      queries: [{ expr: `sum by (service) (rate(circuit_breaker_requests_total{${ON}, service=~"$service", service!="ratelimit-redis", result="failure"}[${RATE}])) / sum by (service) (rate(circuit_breaker_requests_total{${ON}, service=~"$service", service!="ratelimit-redis", result=~"success|failure"}[${RATE}]))`, legend: '{{service}}' }],
    },
    { kind: 'timeseries', title: 'Upstream latency (p50, p90, p99)', description: 'Duration of calls through each upstream breaker, to the response head.', unit: 's', width: 12, queries: quantiles('circuit_breaker_latency_seconds', 'service', `${ON}, service=~"$service", service!="ratelimit-redis"`, '{{service}}') },
    { kind: 'timeseries', title: 'Upstream errors answered to clients', description: '502 UPSTREAM_ERROR, 503 UPSTREAM_UNAVAILABLE (unreachable or breaker open), 504 UPSTREAM_TIMEOUT, by route.', unit: 'reqps', width: 12, stacked: true, queries: [{ expr: `sum by (route, status) (rate(http_requests_total{${ON}, route=~"$route", status=~"502|503|504", route!="health"}[${RATE}]))`, legend: '{{route}} {{status}}' }] },
    { kind: 'timeseries', title: 'Calls refused by open breakers', description: 'Requests answered 503 at once because the upstream breaker was open.', unit: 'ops', width: 12, queries: [{ expr: `sum by (service) (rate(circuit_breaker_requests_total{${ON}, service=~"$service", result="rejected"}[${RATE}]))`, legend: '{{service}}' }] },
  ],
};

const node: RowSpec = {
  title: 'Node.js process',
  panels: [
    { kind: 'timeseries', title: 'CPU', description: 'CPU time per second (1 = one core).', unit: 'short', width: 8, min: 0, queries: [{ expr: `rate(process_cpu_seconds_total{${ON}}[${RATE}])`, legend: '{{instance}}' }] },
    {
      kind: 'timeseries',
      title: 'Memory',
      description: 'Resident set size, V8 heap used and total, and memory held outside the heap (buffers).',
      unit: 'bytes',
      width: 8,
      queries: [
        { expr: `process_resident_memory_bytes{${ON}}`, legend: '{{instance}} rss' },
        { expr: `nodejs_heap_size_used_bytes{${ON}}`, legend: '{{instance}} heap used' },
        { expr: `nodejs_heap_size_total_bytes{${ON}}`, legend: '{{instance}} heap total' },
        { expr: `nodejs_external_memory_bytes{${ON}}`, legend: '{{instance}} external' },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Event loop lag (p50, p99)',
      description: 'Delay of the event loop; every request waits this long on top of its own work. Alert BulwarkEventLoopLag above 100 ms (p99).',
      unit: 's',
      width: 8,
      showThresholds: true,
      thresholds: [{ value: null, color: 'green' }, { value: 0.1, color: 'red' }],
      queries: [
        { expr: `nodejs_eventloop_lag_p50_seconds{${ON}}`, legend: '{{instance}} p50' },
        { expr: `nodejs_eventloop_lag_p99_seconds{${ON}}`, legend: '{{instance}} p99' },
      ],
    },
    { kind: 'timeseries', title: 'Garbage collection', description: 'Time spent in GC per second, by kind (minor, major, incremental, weakcb).', unit: 'short', width: 8, stacked: true, queries: [{ expr: `sum by (instance, kind) (rate(nodejs_gc_duration_seconds_sum{${ON}}[${RATE}]))`, legend: '{{instance}} {{kind}}' }] },
    { kind: 'timeseries', title: 'File descriptors', description: 'Open file descriptors over the limit (sockets to clients, upstreams, Redis, PostgreSQL).', unit: 'percentunit', width: 8, min: 0, queries: [{ expr: `process_open_fds{${ON}} / process_max_fds{${ON}}`, legend: '{{instance}}' }] },
    {
      kind: 'timeseries',
      title: 'Active handles and requests',
      description: 'libuv handles (sockets, timers) and requests in flight; a steady climb is a leak.',
      width: 8,
      queries: [
        { expr: `nodejs_active_handles_total{${ON}}`, legend: '{{instance}} handles' },
        { expr: `nodejs_active_requests_total{${ON}}`, legend: '{{instance}} requests' },
      ],
    },
  ],
};

const VARIABLES: readonly VariableSpec[] = [
  { name: 'job', label: 'Job', query: 'label_values(http_requests_total, job)', multi: false, defaultValue: 'bulwark' },
  { name: 'instance', label: 'Instance', query: 'label_values(process_start_time_seconds{job="$job"}, instance)', multi: true },
  { name: 'route', label: 'Route', query: 'label_values(http_requests_total{job="$job"}, route)', multi: true },
  { name: 'limiter', label: 'Limiter', query: 'label_values(ratelimit_requests_total{job="$job"}, limiter)', multi: true },
  { name: 'service', label: 'Service', query: 'label_values(circuit_breaker_state{job="$job"}, service)', multi: true },
];

/** The rows, top to bottom. */
export const DASHBOARD_ROWS: readonly RowSpec[] = [overview, traffic, rateLimiting, breakers, auth, upstreams, node];

/** The dashboard JSON (Grafana schema 39): importable as is, and loaded by the provisioning files. */
export function bulwarkDashboard(): Record<string, unknown> {
  return {
    uid: 'bulwark-gateway',
    title: 'Bulwark gateway',
    description: 'Traffic, rate limits, circuit breakers, authentication, upstreams and the Node.js process of the Bulwark gateway. Generated by deploy/scripts/generate-dashboard.ts.',
    tags: ['bulwark', 'gateway', 'security'],
    timezone: 'browser',
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-3h', to: 'now' },
    timepicker: {},
    fiscalYearStartMonth: 0,
    liveNow: false,
    weekStart: '',
    links: [],
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    templating: templatingJson(VARIABLES),
    panels: layoutPanels(DASHBOARD_ROWS),
  };
}
