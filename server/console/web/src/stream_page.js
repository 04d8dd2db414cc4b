// One stream: its settings and tabs for the shards (table, lineage, scaling), the record
// browser, the live tail and the put-record form.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { api } from './api.js';
import { ErrorBox, Loading } from './status.js';
import { LineageGraph } from './lineage.js';
import { RecordBrowser } from './records.js';
import { LiveTail } from './tail.js';
import { PutRecordForm } from './put_record.js';
import { Monitoring } from './monitoring.js';

const kShardsPerPage = 100;

const TABS = [
  ['shards', 'Shards'],
  ['monitoring', 'Monitoring'],
  ['records', 'Record browser'],
  ['tail', 'Live tail'],
  ['put', 'Put record'],
];

// The hash key that splits a range in two equal halves; null when it holds one key only.
function midpoint(shard) {
  const start = BigInt(shard.starting_hash_key);
  const end = BigInt(shard.ending_hash_key);
  return end > start ? ((start + end + 1n) / 2n).toString() : null;
}

// The open shard whose range starts right after this one's, the one it can merge with.
function adjacentOpen(shard, shards) {
  const next = (BigInt(shard.ending_hash_key) + 1n).toString();
  return shards.find((s) => s.open && s.starting_hash_key === next);
}

const kMaxHashKey = (1n << 128n) - 1n;

// The hash key ranges of `count` shards that divide the key space evenly, as riffled computes
// them for UpdateShardCount (the last one takes the remainder).
export function uniformRanges(count) {
  const step = (1n << 128n) / BigInt(count);
  const ranges = [];
  for (let i = 0n; i < BigInt(count); i++) {
    ranges.push([step * i, i + 1n === BigInt(count) ? kMaxHashKey : step * (i + 1n) - 1n]);
  }
  return ranges;
}

// What UpdateShardCount to `target` will do: the new shards' ranges, each with the open shards
// it takes over from; or why riffled will refuse it.
function scalePlan(shards, target) {
  const open = shards.filter((s) => s.open);
  if (!Number.isInteger(target) || target < 1) return { refused: 'The target must be a whole number of at least 1.' };
  if (target > 2 * open.length || 2 * target < open.length) {
    return { refused: `The target must be between half and double the ${open.length} open shards.` };
  }
  const layout = (count) => uniformRanges(count).map(([start, end]) => ({
    start, end,
    parents: open.filter((s) => BigInt(s.starting_hash_key) <= end && start <= BigInt(s.ending_hash_key)),
  }));
  const children = layout(target);
  // A child of more than two parents is reached through a layer of twice the target first.
  const twoSteps = children.some((c) => c.parents.length > 2);
  if (twoSteps && layout(2 * target).some((c) => c.parents.length > 2)) {
    return { refused: `${target} uniform shards cannot be reached from these shards; split and merge instead.` };
  }
  const unchanged = target === open.length && children.every((c, i) =>
    c.start === BigInt(open[i].starting_hash_key) && c.end === BigInt(open[i].ending_hash_key));
  return { children, twoSteps, unchanged, closing: open.length };
}

const kScalePreviewRows = 100;

function ScalePreview({ plan, target }) {
  if (plan.refused) return html`<p class="error" role="alert">${plan.refused}</p>`;
  if (plan.unchanged) return html`<p>The ${target} open shards already divide the hash keys evenly: nothing changes.</p>`;
  const range = (start, end) => html`<code>${start.toString()}</code> – <code>${end.toString()}</code>`;
  const rows = plan.children.slice(0, kScalePreviewRows);
  return html`<p>Update the shard count to ${target}: the ${plan.closing} open shards close and
      ${target} new shards divide the hash keys evenly${plan.twoSteps
        ? html` (by way of ${2 * target} short-lived shards, since a new shard may have two parents at most)` : ''}:</p>
    <ol class="scale-preview">${rows.map((c) => html`<li>${range(c.start, c.end)}
      <span class="muted"> from ${c.parents.map((p) => p.shard_id).join(' and ')}</span></li>`)}</ol>
    ${plan.children.length > rows.length && html`<p class="muted">… and ${plan.children.length - rows.length} more.</p>`}`;
}

function ScaleForm({ stream, onChanged }) {
  const [target, setTarget] = useState(stream.open_shard_count);
  const [preview, setPreview] = useState(null);  // the target shown, until Apply or Cancel
  const [error, setError] = useState(null);
  const submit = (event) => {
    event.preventDefault();
    setError(null);
    setPreview(Number(target));
  };
  const plan = preview === null ? null : scalePlan(stream.shards, preview);
  const apply = async () => {
    try {
      await api.updateShardCount(stream.name, preview);
      setError(null);
      setPreview(null);
      onChanged();
    } catch (e) {
      setError(e);
    }
  };
  return html`<form class="inline" onSubmit=${submit}>
    <label>Target shard count
      <input id="scale-target" type="number" min="1" value=${target} onInput=${(e) => setTarget(e.target.value)} />
    </label>
    <button type="submit">Preview shard count</button>
  </form>
  ${plan && html`<div class="card preview" role="region" aria-label="Shard count preview">
    <${ScalePreview} plan=${plan} target=${preview} />
    ${!plan.refused && !plan.unchanged && html`<button type="button" onClick=${apply}>Apply shard count</button>`}
    <button type="button" class="secondary" onClick=${() => setPreview(null)}>Cancel</button>
  </div>`}
  <${ErrorBox} error=${error} />`;
}

// What a split or merge will do to the hash key ranges, shown before it is applied.
function ReshardPreview({ change, onApply, onCancel }) {
  const range = (start, end) => html`<code>${start}</code> – <code>${end}</code>`;
  let description;
  if (change.kind === 'split') {
    const { shard, at } = change;
    description = html`Split <code>${shard.shard_id}</code> into two shards:
      <ul><li>${range(shard.starting_hash_key, (BigInt(at) - 1n).toString())}</li>
      <li>${range(at, shard.ending_hash_key)}</li></ul>`;
  } else {
    const { shard, neighbour } = change;
    description = html`Merge <code>${shard.shard_id}</code> and <code>${neighbour.shard_id}</code>
      into one shard: <ul><li>${range(shard.starting_hash_key, neighbour.ending_hash_key)}</li></ul>`;
  }
  return html`<div class="card preview" role="region" aria-label="Reshard preview">
    <p>${description}</p>
    <p class="muted">The parents close at their last record; the new shards take the writes.</p>
    <button type="button" onClick=${onApply}>Apply ${change.kind}</button>
    <button type="button" class="secondary" onClick=${onCancel}>Cancel</button>
  </div>`;
}

function ShardsTab({ stream, reload }) {
  const [page, setPage] = useState(0);
  const [error, setError] = useState(null);
  const [change, setChange] = useState(null);  // a split or merge waiting for its Apply
  const shards = stream.shards;
  const pages = Math.max(1, Math.ceil(shards.length / kShardsPerPage));
  const shown = shards.slice(page * kShardsPerPage, (page + 1) * kShardsPerPage);
  const apply = async () => {
    try {
      if (change.kind === 'split') await api.splitShard(stream.name, change.shard.shard_id, change.at);
      else await api.mergeShards(stream.name, change.shard.shard_id, change.neighbour.shard_id);
      setError(null);
      reload();
    } catch (e) {
      setError(e);
    }
    setChange(null);
  };
  const provisioned = stream.mode === 'PROVISIONED';
  return html`
    ${provisioned && html`<${ScaleForm} key=${stream.open_shard_count} stream=${stream} onChanged=${reload} />`}
    ${change && html`<${ReshardPreview} change=${change} onApply=${apply} onCancel=${() => setChange(null)} />`}
    <${ErrorBox} error=${error} />
    <h2>Shards (${shards.length}, ${stream.open_shard_count} open)</h2>
    <div class="table-wrap">
      <table aria-label="Shards">
        <thead><tr><th>Shard</th><th>State</th><th>Parent</th><th>Adjacent parent</th>
          <th>Hash key range</th><th><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>${shown.map((shard) => {
          const mid = midpoint(shard);
          const neighbour = adjacentOpen(shard, shards);
          return html`<tr key=${shard.shard_id} data-shard=${shard.shard_id}>
            <td><code>${shard.shard_id}</code></td>
            <td>${shard.open ? 'open' : 'closed'}</td>
            <td><code>${shard.parent_shard_id ?? '—'}</code></td>
            <td><code>${shard.adjacent_parent_shard_id ?? '—'}</code></td>
            <td class="hash"><code>${shard.starting_hash_key}</code> – <code>${shard.ending_hash_key}</code></td>
            <td class="actions">
              ${provisioned && shard.open && mid && html`<button type="button" class="secondary"
                aria-label=${`Split ${shard.shard_id} in half`}
                onClick=${() => setChange({ kind: 'split', shard, at: mid })}>Split</button>`}
              ${provisioned && shard.open && neighbour && html`<button type="button" class="secondary"
                aria-label=${`Merge ${shard.shard_id} with ${neighbour.shard_id}`}
                onClick=${() => setChange({ kind: 'merge', shard, neighbour })}>Merge with next</button>`}
            </td>
          </tr>`;
        })}</tbody>
      </table>
    </div>
    ${pages > 1 && html`<nav class="pager" aria-label="Shard pages">
      <button type="button" class="secondary" disabled=${page === 0} onClick=${() => setPage(page - 1)}>Previous</button>
      <span>Page ${page + 1} of ${pages}</span>
      <button type="button" class="secondary" disabled=${page + 1 >= pages} onClick=${() => setPage(page + 1)}>Next</button>
    </nav>`}
    <h2>Lineage</h2>
    <${LineageGraph} shards=${shards} />`;
}

export function StreamPage({ name, tab }) {
  const [stream, setStream] = useState(null);
  const [error, setError] = useState(null);
  const load = useCallback(async () => {
    try {
      setStream(await api.describeStream(name));
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, [name]);
  useEffect(() => {
    setStream(null);
    load();
  }, [load]);

  const base = `#/streams/${encodeURIComponent(name)}`;
  let body = null;
  if (stream) {
    if (tab === 'records') body = html`<${RecordBrowser} stream=${stream} />`;
    else if (tab === 'tail') body = html`<${LiveTail} stream=${stream} />`;
    else if (tab === 'put') body = html`<${PutRecordForm} stream=${stream} />`;
    else if (tab === 'monitoring') body = html`<${Monitoring} stream=${stream} />`;
    else body = html`<${ShardsTab} stream=${stream} reload=${load} />`;
  }
  const tags = stream ? Object.entries(stream.tags) : [];
  return html`
    <p><a href="#/">← Data streams</a></p>
    <h1>${name}</h1>
    <${ErrorBox} error=${error} />
    ${!stream && !error && html`<${Loading} />`}
    ${stream && html`
      <dl class="summary">
        <div><dt>Status</dt><dd><span class=${`status status-${stream.status.toLowerCase()}`}>${stream.status}</span></dd></div>
        <div><dt>Capacity mode</dt><dd>${stream.mode}</dd></div>
        <div><dt>Open shards</dt><dd>${stream.open_shard_count}</dd></div>
        <div><dt>Retention</dt><dd>${stream.retention_period_hours} h</dd></div>
        <div><dt>Encryption</dt><dd>${stream.encryption_type}</dd></div>
        <div><dt>Max record size</dt><dd>${stream.max_record_size_kib} KiB</dd></div>
        <div><dt>Consumers</dt><dd>${stream.consumers.map((c) => c.name).join(', ') || 'none'}</dd></div>
        <div><dt>Tags</dt><dd>${tags.map(([k, v]) => `${k}=${v}`).join(', ') || 'none'}</dd></div>
        <div class="wide"><dt>ARN</dt><dd><code>${stream.arn}</code></dd></div>
      </dl>
      <nav class="tabs" aria-label="Stream views">
        ${TABS.map(([id, label]) => html`<a href=${`${base}/${id}`}
          aria-current=${tab === id ? 'page' : undefined}>${label}</a>`)}
      </nav>
      ${body}`}`;
}
