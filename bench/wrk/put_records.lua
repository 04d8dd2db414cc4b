-- wrk script: Kinesis PutRecords, COUNT records of random bytes per request, each with its own
-- random partition key.
--   wrk -t 2 -c 4 -d 8s -s bench/wrk/put_records.lua http://127.0.0.1:4567/ -- STREAM [COUNT [BYTES]]
-- Defaults: stream "bench", 500 records of 1024 bytes. An answer of 200 with a FailedRecordCount
-- other than 0 counts as failed. See kinesis.lua for what it checks and prints.
OPERATION = "PutRecords"
RECORDS_PER_REQUEST = 500  -- set from args in make_body
REQUEST_POOL = 4  -- distinct requests per thread (each ~700 KB), sent in turn

function make_body(args)
  local stream = args[1] or "bench"
  RECORDS_PER_REQUEST = tonumber(args[2] or "500")
  local size = tonumber(args[3] or "1024")
  local records = {}
  for i = 1, RECORDS_PER_REQUEST do
    records[i] = string.format('{"Data":"%s","PartitionKey":"%s"}', base64(random_bytes(size)),
                               partition_key())
  end
  return string.format('{"StreamName":"%s","Records":[%s]}', stream, table.concat(records, ","))
end

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "kinesis.lua")
