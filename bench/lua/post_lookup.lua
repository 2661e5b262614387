-- D-Sure's lookup POST (number + key) with a CSRF cookie and token fetched beforehand.
-- BENCH_DATA: one "number key" per line; each request takes the next line, each thread
-- from its own offset, so the throttle (per number) never sees one number many times.
dofile("common.lua")
local cookie = os.getenv("BENCH_CSRF_COOKIE")
local token = os.getenv("BENCH_CSRF_TOKEN")
local bodies = {}
for line in io.lines(os.getenv("BENCH_DATA")) do
  local number, key = line:match("^(%S+) (%S+)$")
  if number then
    bodies[#bodies + 1] = "csrfmiddlewaretoken=" .. token .. "&number=" .. number .. "&key=" .. key
  end
end
local headers = {
  ["Content-Type"] = "application/x-www-form-urlencoded",
  ["Cookie"] = "csrftoken=" .. cookie,
}
-- BENCH_FORWARDED_FOR: the client address this scenario's attempts count against (the bench's
-- gunicorn trusts one proxy), so one scenario's failures never throttle another's lookups.
local forwarded = os.getenv("BENCH_FORWARDED_FOR")
if forwarded and forwarded ~= "" then
  headers["X-Forwarded-For"] = forwarded
end
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("offset", threads * 997)
end
local i = 0
function init(args)
  i = offset or 0
end
function request()
  i = i + 1
  return wrk.format("POST", nil, headers, bodies[(i % #bodies) + 1])
end
