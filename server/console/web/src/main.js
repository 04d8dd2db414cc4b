// The console's shell: the header, the theme switch and the hash router.
//   #/                         streams
//   #/streams/<name>[/<tab>]   one stream: shards | records | tail | put
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { StreamList } from './streams.js';
import { StreamPage } from './stream_page.js';
import './style.css';

function useHashRoute() {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const onChange = () => setHash(location.hash);
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  return parts;
}

// Light or dark: the system's choice until the user picks one, which is remembered.
function ThemeToggle() {
  const [theme, setTheme] = useState(localStorage.getItem('riffle-theme'));
  const systemDark = matchMedia('(prefers-color-scheme: dark)').matches;
  const effective = theme ?? (systemDark ? 'dark' : 'light');
  useEffect(() => {
    document.documentElement.dataset.theme = effective;
  }, [effective]);
  const next = effective === 'dark' ? 'light' : 'dark';
  const toggle = () => {
    localStorage.setItem('riffle-theme', next);
    setTheme(next);
  };
  return html`<button type="button" class="secondary" onClick=${toggle}
    aria-label=${`Switch to ${next} mode`}>${effective === 'dark' ? '☀ Light' : '☾ Dark'}</button>`;
}

function App() {
  const route = useHashRoute();
  let page;
  if (route[0] === 'streams' && route[1]) {
    page = html`<${StreamPage} name=${route[1]} tab=${route[2] ?? 'shards'} />`;
  } else {
    page = html`<${StreamList} />`;
  }
  return html`
    <header class="top">
      <a class="brand" href="#/">Riffle</a>
      <nav aria-label="Main"><a href="#/">Streams</a></nav>
      <${ThemeToggle} />
    </header>
    <main>${page}</main>`;
}

render(html`<${App} />`, document.getElementById('app'));
