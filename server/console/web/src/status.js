// Small pieces every page uses: the error box and the loading line.
import { html } from './html.js';

export function ErrorBox({ error }) {
  if (!error) return null;
  return html`<div class="error" role="alert"><strong>${error.code}</strong>: ${error.message}</div>`;
}

export const Loading = () => html`<p class="muted" role="status">Loading…</p>`;
