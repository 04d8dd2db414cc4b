// The streams page: every stream with its status, and the create form of the Kinesis console
// (name, capacity mode, shard count) with retention and tags.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { api } from './api.js';
import { ErrorBox, Loading } from './status.js';
import { Sparkline, formatNumber } from './charts.js';
import { formatBytes } from './format.js';

// The stream's incoming records or bytes over the last minutes, with the latest interval's rate.
function Incoming({ stream, values, intervalMs, what }) {
  if (!values) return html`<span class="muted">—</span>`;
  const rate = values[values.length - 1] / (intervalMs / 1000);
  const shown = what === 'bytes' ? `${formatBytes(Math.round(rate))}/s` : `${formatNumber(rate)}/s`;
  return html`<span class="incoming" data-incoming=${what}>
    <${Sparkline} values=${values} label=${`Incoming ${what} of ${stream} over the last ${Math.round(values.length * intervalMs / 60000)} minutes`} />
    <span class="rate">${shown}</span></span>`;
}

function parseTags(text) {
  const tags = {};
  for (const pair of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new Error(`tag "${pair}" is not key=value`);
    tags[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return tags;
}

function CreateStreamForm({ onCreated }) {
  const [name, setName] = useState('');
  const [mode, setMode] = useState('PROVISIONED');
  const [shards, setShards] = useState(1);
  const [retention, setRetention] = useState(24);
  const [tags, setTags] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const spec = { name, mode, retention_period_hours: Number(retention), tags: parseTags(tags) };
      if (mode === 'PROVISIONED') spec.shard_count = Number(shards);
      await api.createStream(spec);
      setName('');
      onCreated(name);
    } catch (e) {
      setError({ code: e.code ?? 'InvalidArgument', message: e.message });
    } finally {
      setBusy(false);
    }
  };

  return html`
    <form class="card" onSubmit=${submit} aria-labelledby="create-title">
      <h2 id="create-title">Create data stream</h2>
      <div class="fields">
        <label>Data stream name
          <input id="create-name" required value=${name} pattern="[a-zA-Z0-9_.\\-]{1,128}"
            onInput=${(e) => setName(e.target.value)} />
        </label>
        <label>Capacity mode
          <select id="create-mode" value=${mode} onChange=${(e) => setMode(e.target.value)}>
            <option value="PROVISIONED">Provisioned</option>
            <option value="ON_DEMAND">On-demand</option>
          </select>
        </label>
        <label>Provisioned shards
          <input id="create-shards" type="number" min="1" max="10000" value=${shards}
            disabled=${mode !== 'PROVISIONED'} onInput=${(e) => setShards(e.target.value)} />
        </label>
        <label>Retention (hours)
          <input id="create-retention" type="number" min="24" max="8760" value=${retention}
            onInput=${(e) => setRetention(e.target.value)} />
        </label>
        <label>Tags (key=value, …)
          <input id="create-tags" value=${tags} onInput=${(e) => setTags(e.target.value)} />
        </label>
      </div>
      <button type="submit" disabled=${busy}>Create data stream</button>
      <${ErrorBox} error=${error} />
    </form>`;
}

// Deleting asks once more, in place: the stream's name on a second button.
function DeleteButton({ name, onDeleted }) {
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState(null);
  if (!confirming) {
    return html`<button type="button" class="danger" onClick=${() => setConfirming(true)}
      aria-label=${`Delete ${name}`}>Delete</button>`;
  }
  const reallyDelete = async () => {
    try {
      await api.deleteStream(name);
      onDeleted();
    } catch (e) {
      setError(e);
    }
  };
  return html`<span class="confirm">
    <button type="button" class="danger" onClick=${reallyDelete}>Delete ${name} and its records</button>
    <button type="button" class="secondary" onClick=${() => setConfirming(false)}>Cancel</button>
    <${ErrorBox} error=${error} />
  </span>`;
}

export function StreamList() {
  const [streams, setStreams] = useState(null);
  const [history, setHistory] = useState(null);
  const [error, setError] = useState(null);

  const load = useCallback(async () => {
    try {
      const list = await api.listStreams();
      setStreams(list.streams);
      setHistory(list.history);
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, []);
  useEffect(() => {
    load();
    const timer = setInterval(load, 5000);
    return () => clearInterval(timer);
  }, [load]);

  return html`
    <h1>Data streams</h1>
    <${CreateStreamForm} onCreated=${load} />
    <${ErrorBox} error=${error} />
    ${streams === null ? html`<${Loading} />` : html`
      <div class="table-wrap">
        <table aria-label="Data streams">
          <thead><tr>
            <th>Name</th><th>Status</th><th>Capacity mode</th><th>Open shards</th>
            <th>Retention</th><th>Consumers</th><th>Incoming records</th><th>Incoming bytes</th>
            <th>Created</th><th><span class="visually-hidden">Actions</span></th>
          </tr></thead>
          <tbody>
            ${streams.length === 0 && html`<tr><td colspan="10" class="muted">No data streams yet.</td></tr>`}
            ${streams.map((s) => html`
              <tr key=${s.name} data-stream=${s.name}>
                <td><a href=${`#/streams/${encodeURIComponent(s.name)}`}>${s.name}</a></td>
                <td><span class=${`status status-${s.status.toLowerCase()}`}>${s.status}</span></td>
                <td>${s.mode}</td>
                <td>${s.open_shard_count}</td>
                <td>${s.retention_period_hours} h</td>
                <td>${s.consumer_count}</td>
                <td><${Incoming} stream=${s.name} values=${s.incoming_records_history} intervalMs=${history.interval_ms} what="records" /></td>
                <td><${Incoming} stream=${s.name} values=${s.incoming_bytes_history} intervalMs=${history.interval_ms} what="bytes" /></td>
                <td>${new Date(s.creation_time_ms).toLocaleString()}</td>
                <td><${DeleteButton} name=${s.name} onDeleted=${load} /></td>
              </tr>`)}
          </tbody>
        </table>
      </div>`}`;
}
