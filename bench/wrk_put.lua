-- wrk script: PUTs (updates) rotating over the connections seeded by bench.py. bench.py prepends
-- `paths`, `bodies` (same order) and `token` to this file.
local counter = 0

function setup(thread)
  thread:set("offset", counter * 500)
  counter = counter + 1
end

function init(args)
  i = offset or 0
end

function request()
  i = i + 1
  local k = (i % #paths) + 1
  return wrk.format("PUT", paths[k], {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }, bodies[k])
end
