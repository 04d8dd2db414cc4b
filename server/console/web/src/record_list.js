// A list of records, as the record browser and the live tail show them: the data in the chosen
// format, cut to kShownBytes, with the full record one download away.
import { useMemo, useState } from 'preact/hooks';
import { html } from './html.js';
import { api } from './api.js';
import { FORMATS, formatBytes, formatData, formatTime, kShownBytes } from './format.js';

export function FormatPicker({ format, setFormat, id }) {
  return html`<label>Show data as
    <select id=${id} value=${format} onChange=${(e) => setFormat(e.target.value)}>
      ${FORMATS.map((f) => html`<option value=${f}>${f === 'json' ? 'pretty JSON' : f}</option>`)}
    </select>
  </label>`;
}

// Saves the whole record: fetched with the signed-in key in its header, then handed to the
// browser as a file, so the key never appears in a link.
function DownloadButton({ stream, record }) {
  const [error, setError] = useState(null);
  const save = async () => {
    try {
      const blob = await api.downloadRecord(stream, record.shard_id, record.sequence_number);
      const url = URL.createObjectURL(blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = `${stream}-${record.sequence_number}.bin`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      setError(null);
    } catch (e) {
      setError(e);
    }
  };
  return html`<button type="button" class="link download" onClick=${save}>Download the full record</button>
    ${error && html`<span class="error" role="alert">${error.message}</span>`}`;
}

function RecordData({ stream, record, format }) {
  const shown = useMemo(() => formatData(record.data_base64, format), [record, format]);
  const cut = record.truncated || record.size > kShownBytes;
  return html`<pre class="data">${shown}</pre>
    ${cut && html`<p class="muted">Showing ${formatBytes(Math.min(record.size, kShownBytes))} of
      ${formatBytes(record.size)}. <${DownloadButton} stream=${stream} record=${record} /></p>`}`;
}

export function RecordList({ stream, records, format, label }) {
  if (records.length === 0) return html`<p class="muted">No records.</p>`;
  return html`<div class="table-wrap">
    <table class="records" aria-label=${label}>
      <thead><tr><th>Arrival</th><th>Shard</th><th>Partition key</th><th>Sequence number</th>
        <th>Size</th><th>Data</th></tr></thead>
      <tbody>${records.map((r) => html`<tr key=${r.sequence_number} data-partition-key=${r.partition_key}>
        <td>${formatTime(r.arrival_time_ms)}</td>
        <td><code>${r.shard_id}</code></td>
        <td class="key">${r.partition_key}</td>
        <td><code class="seq">${r.sequence_number}</code></td>
        <td>${formatBytes(r.size)}</td>
        <td><${RecordData} stream=${stream} record=${r} format=${format} /></td>
      </tr>`)}</tbody>
    </table>
  </div>`;
}
