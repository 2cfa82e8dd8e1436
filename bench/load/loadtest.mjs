// One loadtest measurement through its API (the same engine as the `loadtest` CLI the original article used, with
// the CLI's defaults: no keep-alive). Prints one JSON line. Usage: node loadtest.mjs URL SECONDS CONCURRENCY
import { loadTest } from 'loadtest'

const [url, seconds, concurrency] = process.argv.slice(2)
const r = await loadTest({ url, maxSeconds: Number(seconds), concurrency: Number(concurrency), quiet: true })
const requests = r.totalRequests
console.log(JSON.stringify({
  requests,
  errors: r.totalErrors,
  seconds: r.elapsedSeconds,
  rps: requests / r.elapsedSeconds,
  // loadtest truncates every request's latency to whole milliseconds (BigInt division), so its own mean of
  // sub-millisecond requests reads 0. The mean here is wall time per request times the concurrency: at -c 1 that
  // is what one client waits per request, its own overhead included.
  mean_ms: requests ? (r.elapsedSeconds * 1000 * Number(concurrency)) / requests : 0,
  tool_mean_ms: r.meanLatencyMs,
  // Its percentiles come from that whole-millisecond histogram.
  p50_ms: r.percentiles?.[50] || 0,
  p90_ms: r.percentiles?.[90] || 0,
  p99_ms: r.percentiles?.[99] || 0,
}))
