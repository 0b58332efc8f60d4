-- wrk script for bench/issuance and bench/enroll (bench/lib/cfssl.sh): POST /api/v1/cfssl/sign
-- with P-256 CSRs, cycling through the PEM CSRs in the file named by the CSR_FILE environment
-- variable (written by issuance_load or enroll_load --csr-pem-out). A response counts as a signed
-- certificate only if its status is 2xx and its body says "success":true. done() prints one line
-- for bench/lib/cfssl.sh to parse:
--   cfssl_load: ok=N failed=N non2xx=N socket_errors=N seconds=S p50_ms=X p99_ms=X
local threads = {}

local function load_bodies(path)
  local file = assert(io.open(path, "r"), "CSR_FILE: cannot open " .. tostring(path))
  local text = file:read("*a")
  file:close()
  local bodies = {}
  for pem in text:gmatch("%-%-%-%-%-BEGIN CERTIFICATE REQUEST%-%-%-%-%-.-%-%-%-%-%-END CERTIFICATE REQUEST%-%-%-%-%-") do
    -- PEM holds only base64 characters, '-', ' ' and newlines: escaping newlines is enough for JSON.
    bodies[#bodies + 1] = '{"certificate_request":"' .. pem:gsub("\n", "\\n") .. '\\n"}'
  end
  assert(#bodies > 0, "CSR_FILE: no CSRs in " .. path)
  return bodies
end

function setup(thread)
  thread:set("thread_index", #threads)
  threads[#threads + 1] = thread
end

function init(args)
  bodies = load_bodies(os.getenv("CSR_FILE"))
  next_body = thread_index % #bodies
  ok = 0
  failed = 0
  non2xx = 0
  wrk.method = "POST"
  wrk.path = "/api/v1/cfssl/sign"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  next_body = next_body % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[next_body])
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    failed = failed + 1
  elseif body:find('"success":true', 1, true) and body:find("BEGIN CERTIFICATE", 1, true) then
    ok = ok + 1
  else
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local total_ok, total_failed, total_non2xx = 0, 0, 0
  for _, thread in ipairs(threads) do
    total_ok = total_ok + thread:get("ok")
    total_failed = total_failed + thread:get("failed")
    total_non2xx = total_non2xx + thread:get("non2xx")
  end
  io.write(string.format(
    "cfssl_load: ok=%d failed=%d non2xx=%d socket_errors=%d seconds=%.3f p50_ms=%.2f p99_ms=%.2f\n",
    total_ok, total_failed, total_non2xx,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
