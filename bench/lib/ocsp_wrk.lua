-- bench/ocsp's wrk script: OCSP requests made beforehand (bench/lib/ocsp_fixtures.py), sent round
-- robin, each wrk thread starting at a different place in the list.
--
-- Environment:
--   OCSP_REQUESTS   the request file: post.hex / nonce.hex (one DER request a line, hex) or
--                   get.txt (one path a line)
--   OCSP_MODE       post, get or nonce. nonce: POST, and the last 32 octets of each request (its
--                   nonce, ocsp_fixtures.py puts it last) are replaced by the thread's number and a
--                   counter, so no two requests of a run carry the same nonce
--   OCSP_PATH       the POST path ["/ocsp"]
--   OCSP_CLOSE      1: send `Connection: close` (a TCP connection per request)
--
-- Requests other than nonce ones are formatted once in init(); request() only hands them out.
local requests = {}
local prefixes = {}
local next_index = 1
local counter = 0
local mode = os.getenv("OCSP_MODE") or "post"
local path = os.getenv("OCSP_PATH") or "/ocsp"
local headers = {}
local threads_made = 0

local function unhex(text)
  return (text:gsub("%x%x", function(byte) return string.char(tonumber(byte, 16)) end))
end

function setup(thread)
  thread:set("thread_number", threads_made)
  threads_made = threads_made + 1
end

function init(args)
  thread_number = thread_number or 0  -- set by setup() in the main state
  if os.getenv("OCSP_CLOSE") == "1" then headers["Connection"] = "close" end
  local file = assert(io.open(assert(os.getenv("OCSP_REQUESTS"), "OCSP_REQUESTS unset"), "r"))
  for line in file:lines() do
    if line ~= "" then
      if mode == "get" then
        table.insert(requests, wrk.format("GET", line, headers))
      elseif mode == "post" then
        local post_headers = {["Content-Type"] = "application/ocsp-request"}
        for name, value in pairs(headers) do post_headers[name] = value end
        table.insert(requests, wrk.format("POST", path, post_headers, unhex(line)))
      else
        local der = unhex(line)
        table.insert(prefixes, der:sub(1, #der - 32))
      end
    end
  end
  file:close()
  if mode == "nonce" then
    headers["Content-Type"] = "application/ocsp-request"
    assert(#prefixes > 0, "no requests in " .. os.getenv("OCSP_REQUESTS"))
    next_index = (thread_number * 7919) % #prefixes + 1
  else
    assert(#requests > 0, "no requests in " .. os.getenv("OCSP_REQUESTS"))
    next_index = (thread_number * 7919) % #requests + 1
  end
end

function request()
  if mode == "nonce" then
    local prefix = prefixes[next_index]
    next_index = next_index % #prefixes + 1
    counter = counter + 1
    -- 32 octets: the thread's number and the counter, decimal, zero-padded.
    local nonce = string.format("%08d%024d", thread_number, counter)
    return wrk.format("POST", path, headers, prefix .. nonce)
  end
  local formatted = requests[next_index]
  next_index = next_index % #requests + 1
  return formatted
end
