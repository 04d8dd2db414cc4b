// The live tail: new records of every shard as they arrive. The server holds each request until
// records come (long polling); pausing keeps the position, so resuming misses nothing.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from './html.js';
import { api } from './api.js';
import { ErrorBox } from './status.js';
import { FormatPicker, RecordList } from './record_list.js';

// The tail shows the newest records only, so an hour of traffic does not grow the page forever.
const kKeptRecords = 500;
const kWaitMs = 10000;

export function LiveTail({ stream }) {
  const [running, setRunning] = useState(true);
  const [live, setLive] = useState(false);
  const [records, setRecords] = useState([]);
  const [format, setFormat] = useState('text');
  const [error, setError] = useState(null);
  const cursor = useRef(null);
  const runningRef = useRef(running);
  runningRef.current = running;

  useEffect(() => {
    if (!running) return undefined;
    let stopped = false;
    (async () => {
      try {
        if (cursor.current === null) {
          // Where "now" is, at once: records put from here on are shown.
          cursor.current = (await api.readRecords(stream.name, { from: 'LATEST' })).cursor;
        }
        setLive(true);
        while (!stopped && runningRef.current) {
          const answer = await api.readRecords(stream.name, {
            cursor: cursor.current, wait_ms: kWaitMs, limit: kKeptRecords });
          if (stopped) return;  // unmounted: this page's position is dropped
          cursor.current = answer.cursor;
          if (answer.records.length) {
            setRecords((old) => [...answer.records.slice().reverse(), ...old].slice(0, kKeptRecords));
          }
        }
      } catch (e) {
        setError(e);
        setRunning(false);
      } finally {
        setLive(false);
      }
    })();
    return () => { stopped = true; };
  }, [running, stream.name]);

  return html`
    <div class="toolbar">
      <button type="button" onClick=${() => { setError(null); setRunning(!running); }}
        aria-pressed=${!running}>${running ? 'Pause' : 'Resume'}</button>
      <button type="button" class="secondary" onClick=${() => setRecords([])}>Clear</button>
      <${FormatPicker} id="tail-format" format=${format} setFormat=${setFormat} />
      <span role="status" class=${live ? 'live' : 'muted'} id="tail-state">
        ${live ? 'Live: waiting for records' : running ? 'Connecting…' : 'Paused'}</span>
    </div>
    <${ErrorBox} error=${error} />
    <p class="muted">Newest first; the newest ${kKeptRecords} are kept.</p>
    <${RecordList} stream=${stream.name} records=${records} format=${format} label="Live records" />`;
}
