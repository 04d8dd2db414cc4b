// The record browser: every shard at once (or only the shards a partition key hashes to), from
// TRIM_HORIZON, LATEST, a time or a sequence number, a page at a time, exportable as JSON lines.
import { useState } from 'preact/hooks';
import { html } from './html.js';
import { api } from './api.js';
import { ErrorBox } from './status.js';
import { FormatPicker, RecordList } from './record_list.js';

const POSITIONS = [
  ['TRIM_HORIZON', 'Oldest (trim horizon)'],
  ['LATEST', 'Latest'],
  ['AT_TIMESTAMP', 'At timestamp'],
  ['AT_SEQUENCE_NUMBER', 'At sequence number'],
];

function exportJsonLines(streamName, records) {
  const lines = records.map((r) => JSON.stringify({
    stream: streamName, shard_id: r.shard_id, sequence_number: r.sequence_number,
    partition_key: r.partition_key, arrival_time: new Date(r.arrival_time_ms).toISOString(),
    size: r.size, data_base64: r.data_base64, truncated: r.truncated,
  }));
  const blob = new Blob([lines.join('\n') + '\n'], { type: 'application/x-ndjson' });
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = `${streamName}-records.jsonl`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

export function RecordBrowser({ stream }) {
  const [from, setFrom] = useState('TRIM_HORIZON');
  const [timestamp, setTimestamp] = useState(() => new Date(Date.now() - 3600_000).toISOString());
  const [sequenceNumber, setSequenceNumber] = useState('');
  const [partitionKey, setPartitionKey] = useState('');
  const [limit, setLimit] = useState(100);
  const [format, setFormat] = useState('text');
  const [result, setResult] = useState(null);  // { records, cursor, page }
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  const read = async (cursor, page) => {
    setBusy(true);
    setError(null);
    try {
      const params = { limit, partition_key: partitionKey };
      if (cursor) {
        params.cursor = cursor;
      } else {
        params.from = from;
        if (from === 'AT_TIMESTAMP') params.timestamp = timestamp;
        if (from === 'AT_SEQUENCE_NUMBER') params.sequence_number = sequenceNumber;
      }
      const answer = await api.readRecords(stream.name, params);
      setResult({ records: answer.records, cursor: answer.cursor, page, throttled: answer.throttled_shards });
    } catch (e) {
      setError(e);
      setResult(null);
    } finally {
      setBusy(false);
    }
  };

  return html`
    <form class="card" onSubmit=${(e) => { e.preventDefault(); read(null, 1); }} aria-label="Read records">
      <div class="fields">
        <label>Start position
          <select id="read-from" value=${from} onChange=${(e) => setFrom(e.target.value)}>
            ${POSITIONS.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
          </select>
        </label>
        ${from === 'AT_TIMESTAMP' && html`<label>Timestamp (ISO 8601 or epoch ms)
          <input id="read-timestamp" value=${timestamp} onInput=${(e) => setTimestamp(e.target.value)} />
        </label>`}
        ${from === 'AT_SEQUENCE_NUMBER' && html`<label>Sequence number
          <input id="read-sequence-number" value=${sequenceNumber} onInput=${(e) => setSequenceNumber(e.target.value)} />
        </label>`}
        <label>Partition key (reads only its shards)
          <input id="read-partition-key" value=${partitionKey} onInput=${(e) => setPartitionKey(e.target.value)} />
        </label>
        <label>Records per page
          <input id="read-limit" type="number" min="1" max="1000" value=${limit} onInput=${(e) => setLimit(e.target.value)} />
        </label>
        <${FormatPicker} id="read-format" format=${format} setFormat=${setFormat} />
      </div>
      <button type="submit" disabled=${busy}>Read records</button>
    </form>
    <${ErrorBox} error=${error} />
    ${result && html`
      <div class="toolbar">
        <span role="status">Page ${result.page}: ${result.records.length} record(s)${result.throttled
          ? `; ${result.throttled} shard(s) over their read quota, read them on the next page` : ''}</span>
        <button type="button" class="secondary" disabled=${busy}
          onClick=${() => read(result.cursor, result.page + 1)}>Next page</button>
        <button type="button" class="secondary" disabled=${result.records.length === 0}
          onClick=${() => exportJsonLines(stream.name, result.records)}>Export as JSON lines</button>
      </div>
      <${RecordList} stream=${stream.name} records=${result.records} format=${format} label="Records" />`}`;
}
