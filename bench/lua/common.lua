-- Shared by the bench's wrk scripts: one JSON line with the figures bench/run.py reads.
function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"seconds":%.3f,"rps":%.1f,"p50_ms":%.2f,"p90_ms":%.2f,'
      .. '"p99_ms":%.2f,"max_ms":%.2f,"bad_status":%d,"errors":%d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    e.status, e.connect + e.read + e.write + e.timeout))
end
