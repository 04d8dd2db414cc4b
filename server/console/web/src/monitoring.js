// The stream's Monitoring tab: incoming records and bytes, iterator age and consumer group lag
// over the last hour, from the history riffled keeps of its own metrics, refreshed every 5 s.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { api } from './api.js';
import { ErrorBox, Loading } from './status.js';
import { LineChart, perSecond, timesOf } from './charts.js';

// Lines on one chart: the stream's total and its busiest shards.
const kShardsCharted = 8;

function trafficSeries(metrics, field, rate) {
  const conv = (values) => (rate ? perSecond(values, metrics.history.interval_ms) : values);
  const series = [{ label: 'stream', values: conv(metrics.stream[field]) }];
  for (const shard of metrics.shards) {
    series.push({ label: shard.shard_id.replace(/^shardId-0*(?=\d)/, 'shard '), values: conv(shard.traffic[field]) });
  }
  return series;
}

export function Monitoring({ stream }) {
  const [metrics, setMetrics] = useState(null);
  const [error, setError] = useState(null);
  const load = useCallback(async () => {
    try {
      setMetrics(await api.streamMetrics(stream.name, { minutes: 60, shards: kShardsCharted }));
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, [stream.name]);
  useEffect(() => {
    load();
    const timer = setInterval(load, 5000);
    return () => clearInterval(timer);
  }, [load]);

  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!metrics) return html`<${Loading} />`;
  if (!metrics.history.kept) {
    return html`<p class="muted">This riffled keeps no history of its metrics.</p>`;
  }
  const xs = timesOf(metrics.history, metrics.intervals);
  const hidden = metrics.shards_not_shown + metrics.shards_without_history;
  return html`
    <p class="muted">The last hour in ${metrics.history.interval_ms / 1000} s intervals, as this
      node saw it: the stream and its ${metrics.shards.length} busiest shards.
      ${hidden > 0 && html` ${hidden} more shard(s) with traffic are not drawn.`}</p>
    ${metrics.stream === null ? html`<p class="muted" id="no-traffic">No records put or read in the last hour.</p>` : html`
      <div class="charts" id="stream-charts">
        <${LineChart} title="Incoming records (per second)" unit="rec/s" xs=${xs}
          series=${trafficSeries(metrics, 'incoming_records', true)} />
        <${LineChart} title="Incoming bytes (per second)" unit="B/s" xs=${xs}
          series=${trafficSeries(metrics, 'incoming_bytes', true)} />
        <${LineChart} title="Iterator age (highest, ms)" unit="ms" xs=${xs}
          series=${trafficSeries(metrics, 'iterator_age_ms', false)} />
      </div>`}
    <h2>Consumer lag</h2>
    <p class="muted">Registered (enhanced fan-out) consumers are behind by their iterator age
      above; consumer groups by the records after their checkpoints.</p>
    ${metrics.consumer_groups.length === 0 ? html`<p class="muted">No consumer groups.</p>` : html`
      <div class="charts">
        <${LineChart} title="Consumer group lag (records)" unit="records" xs=${xs}
          series=${metrics.consumer_groups.map((g) => ({ label: g.name, values: g.lag_records }))} />
        <${LineChart} title="Consumer group lag (ms)" unit="ms" xs=${xs}
          series=${metrics.consumer_groups.map((g) => ({ label: g.name, values: g.lag_ms }))} />
      </div>`}`;
}
