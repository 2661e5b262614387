-- GET the URL given to wrk, with the cookie in BENCH_COOKIE (a session) if any.
dofile("common.lua")
local cookie = os.getenv("BENCH_COOKIE")
wrk.method = "GET"
if cookie and cookie ~= "" then
  wrk.headers["Cookie"] = cookie
end
local authorization = os.getenv("BENCH_AUTHORIZATION")
if authorization and authorization ~= "" then
  wrk.headers["Authorization"] = authorization
end
