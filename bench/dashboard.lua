-- wrk script: GET /clinic (the caseload dashboard) as many clinicians in
-- turn. KP_TOKENS: file of "SESSION_TOKEN CSRF_TOKEN" lines
-- (kneepath seed --clinician-sessions).
local creds = {}
for line in io.lines(os.getenv("KP_TOKENS")) do
  local t = line:match("(%S+)")
  if t then creds[#creds + 1] = t end
end
local thread_count = 0
function setup(thread)
  thread:set("tid", thread_count)
  thread_count = thread_count + 1
end
function init(args)
  n = 0
end
function request()
  n = n + 1
  local c = creds[((tid * 7919 + n) % #creds) + 1]
  return wrk.format("GET", "/clinic", {
    ["Cookie"] = "kp_session=" .. c,
    ["Accept-Encoding"] = "gzip",
  })
end
