-- wrk load test of search: `wrk -t2 -c20 -d60s -s bench/wrk/search.lua http://127.0.0.1:8080`
-- Set API_KEY in the environment when the server has keys configured.
local queries = { "index vacuum", "kubernetes rollout", "sourdough starter", "tax return budget", "embedding recall", "marathon recovery" }
local key = os.getenv("API_KEY")
local counter = 0

request = function()
  counter = counter + 1
  local q = queries[(counter % #queries) + 1]
  local headers = { ["Content-Type"] = "application/json" }
  if key then headers["Authorization"] = "Bearer " .. key end
  return wrk.format("POST", "/api/v1/query", headers, '{"query":"' .. q .. '","limit":10,"mode":"hybrid"}')
end

done = function(summary, latency, requests)
  io.write(string.format("p50 %.1f ms  p95 %.1f ms  p99 %.1f ms  %d requests  %d errors\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.timeout))
end
