// The shards of a stream as a graph: each split or merge draws its parents left of its
// children. Columns are generations; a column lists its shards by hash key range.
import { html } from './html.js';

// Beyond this many shards the graph would be unreadable and slow to draw: the table pages them.
export const kMaxDrawnShards = 300;

const kNodeWidth = 170;
const kNodeHeight = 26;
const kColumnGap = 50;
const kRowGap = 8;

const parentsOf = (shard) => [shard.parent_shard_id, shard.adjacent_parent_shard_id].filter(Boolean);

export function LineageGraph({ shards }) {
  if (shards.length > kMaxDrawnShards) {
    return html`<p class="muted">The lineage graph is drawn for up to ${kMaxDrawnShards} shards;
      this stream has ${shards.length}. The table lists every shard's parents.</p>`;
  }
  const byId = new Map(shards.map((s) => [s.shard_id, s]));
  const depth = new Map();
  const depthOf = (shard) => {
    if (!depth.has(shard.shard_id)) {
      depth.set(shard.shard_id, 0);  // guards against a cycle in bad data
      const parents = parentsOf(shard).map((id) => byId.get(id)).filter(Boolean);
      depth.set(shard.shard_id, parents.length ? 1 + Math.max(...parents.map(depthOf)) : 0);
    }
    return depth.get(shard.shard_id);
  };
  const columns = [];
  for (const shard of shards) {
    const d = depthOf(shard);
    (columns[d] ??= []).push(shard);
  }
  const position = new Map();
  columns.forEach((column, x) => {
    column.sort((a, b) => (BigInt(a.starting_hash_key) < BigInt(b.starting_hash_key) ? -1 : 1));
    column.forEach((shard, y) => position.set(shard.shard_id, { x, y }));
  });
  const rows = Math.max(...columns.map((c) => c.length));
  const width = columns.length * (kNodeWidth + kColumnGap);
  const height = rows * (kNodeHeight + kRowGap);
  const left = (p) => p.x * (kNodeWidth + kColumnGap);
  const top = (p) => p.y * (kNodeHeight + kRowGap);

  const edges = [];
  for (const shard of shards) {
    for (const parent of parentsOf(shard)) {
      const from = position.get(parent);
      if (!from) continue;  // trimmed away by retention
      const to = position.get(shard.shard_id);
      edges.push(html`<line class="edge" data-parent=${parent} data-child=${shard.shard_id}
        x1=${left(from) + kNodeWidth} y1=${top(from) + kNodeHeight / 2}
        x2=${left(to)} y2=${top(to) + kNodeHeight / 2} />`);
    }
  }
  return html`
    <div class="graph-wrap">
      <svg class="lineage" role="img" aria-label="Shard lineage: parents left of their children"
        width=${width} height=${height} viewBox=${`0 0 ${width} ${height}`}>
        ${edges}
        ${shards.map((shard) => {
          const p = position.get(shard.shard_id);
          return html`<g class=${shard.open ? 'node open' : 'node closed'} data-shard=${shard.shard_id}>
            <title>${shard.shard_id} (${shard.open ? 'open' : 'closed'})</title>
            <rect x=${left(p)} y=${top(p)} width=${kNodeWidth} height=${kNodeHeight} rx="4" />
            <text x=${left(p) + 8} y=${top(p) + 17}>${shard.shard_id}</text>
          </g>`;
        })}
      </svg>
    </div>`;
}
