-- Shared by put_record.lua and put_records.lua: Kinesis AWS JSON 1.1 requests for wrk, and the
-- response check. A script that includes this file defines make_body(stream), which returns one
-- request body, and RECORDS_PER_REQUEST; this file builds a pool of requests per thread from it,
-- sends them in turn, counts answers other than 200 (and, for PutRecords, answers with failed
-- records), and prints one line for bench/compare.sh when the run ends:
--   wrk_result requests=N seconds=S records_per_request=R non200=N failed=N socket_errors=N ...

local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local digit = {}
for i = 1, 64 do
  digit[i - 1] = alphabet:sub(i, i)
end

function base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    out[#out + 1] = digit[math.floor(n / 262144) % 64] .. digit[math.floor(n / 4096) % 64] ..
                    (b and digit[math.floor(n / 64) % 64] or "=") .. (c and digit[n % 64] or "=")
  end
  return table.concat(out)
end

function random_bytes(n)
  local bytes = {}
  for i = 1, n do
    bytes[i] = string.char(math.random(0, 255))
  end
  return table.concat(bytes)
end

function partition_key()
  return "k" .. math.random(0, 999999999)
end

local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("thread_id", next_id)
  threads[#threads + 1] = thread
end

local requests = {}
local next_request = 0

-- Globals, so that done() can read them from every thread with thread:get().
non200 = 0
failed = 0
first_error = ""

-- args (after `--` on the wrk command line): stream name, then what the script's make_body takes.
function init(args)
  math.randomseed(os.time() * 1000 + (thread_id or 0))
  local target = "Kinesis_20131202." .. OPERATION
  local headers = {
    ["X-Amz-Target"] = target,
    ["Content-Type"] = "application/x-amz-json-1.1",
    ["X-Amz-Date"] = "20260101T000000Z",
    ["Authorization"] = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/kinesis/" ..
                        "aws4_request, SignedHeaders=host, Signature=abc",
  }
  for i = 1, REQUEST_POOL do
    requests[i] = wrk.format("POST", "/", headers, make_body(args))
  end
end

function request()
  next_request = next_request % #requests + 1
  return requests[next_request]
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
    if first_error == "" then
      first_error = status .. " " .. body:sub(1, 200)
    end
  elseif RECORDS_PER_REQUEST > 1 and not body:find('"FailedRecordCount":0[,}]') then
    failed = failed + 1
    if first_error == "" then
      first_error = body:sub(1, 200)
    end
  end
end

function done(summary, latency, _)
  local bad, bad_batches, sample = 0, 0, ""
  local per_request = threads[1]:get("RECORDS_PER_REQUEST")
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non200")
    bad_batches = bad_batches + thread:get("failed")
    if sample == "" then
      sample = thread:get("first_error")
    end
  end
  local e = summary.errors
  io.write(string.format(
    "wrk_result requests=%d seconds=%.3f records_per_request=%d non200=%d failed=%d " ..
    "socket_errors=%d p50_ms=%.2f p99_ms=%.2f\n",
    summary.requests, summary.duration / 1e6, per_request, bad, bad_batches,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000))
  if sample ~= "" then
    io.write("wrk_first_error " .. sample:gsub("%s+", " ") .. "\n")
  end
end
