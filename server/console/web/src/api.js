// The console's JSON API (docs/console.md). Every call resolves with the parsed body or throws
// an ApiError carrying the Kinesis error code and message the server sent.

export class ApiError extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

// With a credentials file riffled wants a key on every call. It is kept for this tab only and
// sent as a header, never a cookie, so no other site can make the browser send it.
const CREDENTIALS = 'riffle-console-credentials';
export const credentials = {
  get: () => sessionStorage.getItem(CREDENTIALS),
  set: (id, secret) => sessionStorage.setItem(CREDENTIALS, `${id}:${secret}`),
  clear: () => sessionStorage.removeItem(CREDENTIALS),
};
// Raised on window when riffled refuses the key (or wants one): the shell shows the sign-in.
export const SIGN_IN_NEEDED = 'riffle-sign-in-needed';

async function send(method, path, body) {
  const init = { method, headers: {} };
  const key = credentials.get();
  if (key) {
    init.headers['Authorization'] = `Bearer ${key}`;
  }
  if (method !== 'GET') {
    // The server refuses a change without it: a cross-site form cannot send this type.
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body ?? {});
  }
  try {
    return await fetch(path, init);
  } catch (e) {
    throw new ApiError('NetworkError', `riffled did not answer: ${e.message}`, 0);
  }
}

function parse(response, text) {
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    throw new ApiError('InternalFailure', `riffled answered ${response.status} with non-JSON`, response.status);
  }
}

// Throws the ApiError of a refused call (and asks for a sign-in on 401).
async function failed(response) {
  if (response.status === 401) {
    dispatchEvent(new Event(SIGN_IN_NEEDED));
  }
  const json = parse(response, await response.text());
  throw new ApiError(json.error ?? 'InternalFailure', json.message ?? response.statusText, response.status);
}

async function call(method, path, body) {
  const response = await send(method, path, body);
  if (!response.ok) await failed(response);
  return parse(response, await response.text());
}

const streamPath = (name) => `/api/streams/${encodeURIComponent(name)}`;

export const api = {
  listStreams: () => call('GET', '/api/streams'),
  createStream: (spec) => call('POST', '/api/streams', spec),
  describeStream: (name) => call('GET', streamPath(name)),
  deleteStream: (name) => call('DELETE', streamPath(name)),
  updateShardCount: (name, target) =>
    call('POST', `${streamPath(name)}/shard-count`, { target_shard_count: target }),
  splitShard: (name, shardId, newStartingHashKey) =>
    call('POST', `${streamPath(name)}/split`, { shard_id: shardId, new_starting_hash_key: newStartingHashKey }),
  mergeShards: (name, shardId, adjacentShardId) =>
    call('POST', `${streamPath(name)}/merge`, { shard_id: shardId, adjacent_shard_id: adjacentShardId }),
  putRecord: (name, partitionKey, dataBase64) =>
    call('POST', `${streamPath(name)}/records`, { partition_key: partitionKey, data_base64: dataBase64 }),
  // params: from, timestamp, sequence_number, partition_key, limit, cursor, wait_ms
  readRecords: (name, params) => {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (value !== undefined && value !== null && value !== '') query.set(key, String(value));
    }
    return call('GET', `${streamPath(name)}/records?${query}`);
  },
  streamMetrics: (name, params) => call('GET', `${streamPath(name)}/metrics?${new URLSearchParams(params)}`),
  // The record's data as a Blob. Fetched with the key in its header (a plain link would carry
  // none, and the key never goes into a URL).
  downloadRecord: async (name, shardId, sequenceNumber) => {
    const path = `${streamPath(name)}/shards/${encodeURIComponent(shardId)}/records/${encodeURIComponent(sequenceNumber)}`;
    const response = await send('GET', path);
    if (!response.ok) await failed(response);
    return response.blob();
  },
};
