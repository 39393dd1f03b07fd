-- wrk script: POST /checkin as many different patients, each request a new
-- (patient, day) pair, so every request is a real insert.
-- KP_TOKENS: file of "SESSION_TOKEN CSRF_TOKEN" lines (kneepath seed --sessions)
-- KP_TODAY:  YYYY-MM-DD; patients' plans started 14 days before it.
local creds = {}
for line in io.lines(os.getenv("KP_TOKENS")) do
  local t, c = line:match("(%S+)%s+(%S+)")
  if t then creds[#creds + 1] = { t, c } end
end
local y, m, d = os.getenv("KP_TODAY"):match("(%d+)-(%d+)-(%d+)")
local days = {}
for i = 0, 14 do
  days[#days + 1] = os.date("!%Y-%m-%d", os.time({ year = tonumber(y), month = tonumber(m), day = tonumber(d) - i, hour = 12 }))
end

local thread_count = 0
function setup(thread)
  thread:set("tid", thread_count)
  thread_count = thread_count + 1
end

function init(args)
  n = 0
  nthreads = tonumber(os.getenv("KP_THREADS") or "2")
end

function request()
  local k = tid + n * nthreads
  n = n + 1
  local c = creds[(k % #creds) + 1]
  local day = days[(math.floor(k / #creds) % #days) + 1]
  local body = "csrf=" .. c[2] .. "&day=" .. day ..
    "&pain_now=2&morning_pain=1&stiffness=1&swelling=none&walks_normally=yes&full_range=yes&sleep_hours=7.5&training_minutes=30&effort=5"
  return wrk.format("POST", "/checkin", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "kp_session=" .. c[1],
  }, body)
end
