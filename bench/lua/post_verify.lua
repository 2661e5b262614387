-- The API's POST /api/v1/verify (number + key as JSON) with a bearer token (BENCH_TOKEN).
-- BENCH_DATA: one "number key" per line, taken in turn as post_lookup.lua does.
dofile("common.lua")
local bodies = {}
for line in io.lines(os.getenv("BENCH_DATA")) do
  local number, key = line:match("^(%S+) (%S+)$")
  if number then
    bodies[#bodies + 1] = '{"number":"' .. number .. '","key":"' .. key .. '"}'
  end
end
local headers = {
  ["Content-Type"] = "application/json",
  ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN"),
}
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("offset", threads * 991)
end
local i = 0
function init(args)
  i = offset or 0
end
function request()
  i = i + 1
  return wrk.format("POST", nil, headers, bodies[(i % #bodies) + 1])
end
