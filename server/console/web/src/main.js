// The console's shell: the header, the theme switch and the hash router.
//   #/                         streams
//   #/streams/<name>[/<tab>]   one stream: shards | records | tail | put
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { StreamList } from './streams.js';
import { StreamPage } from './stream_page.js';
import { credentials, SIGN_IN_NEEDED } from './api.js';
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

// Shown when riffled asks for a key (it has a credentials file): an access key id and secret
// of that file, kept for this tab.
function SignIn({ onSignedIn }) {
  const submit = (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    credentials.set(form.get('id').trim(), form.get('secret'));
    onSignedIn();
  };
  return html`
    <section class="sign-in">
      <h1>Sign in</h1>
      <p>This riffled needs an access key of its credentials file.</p>
      <form onSubmit=${submit}>
        <label>Access key id <input name="id" required autocomplete="username" /></label>
        <label>Secret <input name="secret" type="password" required
          autocomplete="current-password" /></label>
        <button type="submit">Sign in</button>
      </form>
    </section>`;
}

function useSignIn() {
  const [needed, setNeeded] = useState(false);
  const [session, setSession] = useState(0);  // remounts the page after a sign-in
  useEffect(() => {
    const ask = () => setNeeded(true);
    addEventListener(SIGN_IN_NEEDED, ask);
    return () => removeEventListener(SIGN_IN_NEEDED, ask);
  }, []);
  const signedIn = () => {
    setNeeded(false);
    setSession((n) => n + 1);
  };
  return { needed, session, signedIn };
}

function App() {
  const route = useHashRoute();
  const signIn = useSignIn();
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
    <main key=${signIn.session}>
      ${signIn.needed ? html`<${SignIn} onSignedIn=${signIn.signedIn} />` : page}
    </main>`;
}

render(html`<${App} />`, document.getElementById('app'));
