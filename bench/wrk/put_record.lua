-- wrk script: Kinesis PutRecord, one record of random bytes per request, a random partition key.
--   wrk -t 2 -c 8 -d 8s -s bench/wrk/put_record.lua http://127.0.0.1:4567/ -- STREAM [BYTES]
-- Defaults: stream "bench", 100-byte records. See kinesis.lua for what it checks and prints.
OPERATION = "PutRecord"
RECORDS_PER_REQUEST = 1
REQUEST_POOL = 1000  -- distinct requests per thread, sent in turn

function make_body(args)
  local stream = args[1] or "bench"
  local size = tonumber(args[2] or "100")
  return string.format('{"StreamName":"%s","Data":"%s","PartitionKey":"%s"}', stream,
                       base64(random_bytes(size)), partition_key())
end

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "kinesis.lua")
