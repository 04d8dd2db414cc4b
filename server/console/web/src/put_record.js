// Puts one record: text as typed (UTF-8), or bytes given as base64.
import { useState } from 'preact/hooks';
import { html } from './html.js';
import { api } from './api.js';
import { ErrorBox } from './status.js';
import { textToBase64 } from './format.js';

export function PutRecordForm({ stream }) {
  const [partitionKey, setPartitionKey] = useState('');
  const [data, setData] = useState('');
  const [encoding, setEncoding] = useState('text');
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);

  const submit = async (event) => {
    event.preventDefault();
    setError(null);
    setResult(null);
    try {
      const base64 = encoding === 'text' ? textToBase64(data) : data.replace(/\s+/g, '');
      setResult(await api.putRecord(stream.name, partitionKey, base64));
    } catch (e) {
      setError(e);
    }
  };

  return html`
    <form class="card" onSubmit=${submit} aria-label="Put record">
      <div class="fields">
        <label>Partition key
          <input id="put-partition-key" required value=${partitionKey} onInput=${(e) => setPartitionKey(e.target.value)} />
        </label>
        <label>Data is
          <select id="put-encoding" value=${encoding} onChange=${(e) => setEncoding(e.target.value)}>
            <option value="text">text (UTF-8)</option>
            <option value="base64">base64 bytes</option>
          </select>
        </label>
      </div>
      <label class="block">Data
        <textarea id="put-data" rows="6" value=${data} onInput=${(e) => setData(e.target.value)} />
      </label>
      <button type="submit">Put record</button>
    </form>
    <${ErrorBox} error=${error} />
    ${result && html`<p role="status" id="put-result">Put into <code>${result.shard_id}</code> as sequence number
      <code class="seq">${result.sequence_number}</code>.</p>`}`;
}
