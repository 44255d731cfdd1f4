// The demo page: a plain browser EventSource and fetch, nothing else, so it reads as documentation.
const $ = (id) => document.getElementById(id);
const subscribeForm = $('subscribe-form');
const publishForm = $('publish-form');
const events = $('events');
const emptyNote = $('events-empty');

/** Most entries kept in the list; older ones are dropped. */
const MAX_ENTRIES = 200;

let hubPath = '/.well-known/mercure';
/** The EventSource of the current subscription. */
let source;
/** Named event types the current EventSource listens to (`message` always reaches `onmessage`). */
let listened = new Set();
/** The current subscription's event handler. */
let deliver;
let received = 0;

const hubUrl = () => new URL(hubPath, location.href);

/**
 * The selector types, by the query parameter each goes in: how the hub reads a line, the example
 * the form shows, the `siar subscribe` flag, and the cursor parameter of its generation.
 */
const SELECTOR_TYPES = {
  match_urlpattern: {
    hint: 'one per line: a URL Pattern such as <code>https://example.com/books/:id</code>, or <code>*</code> for all',
    example: 'https://example.com/books/:id',
    flag: '--match-urlpattern',
    cursor: 'last_event_id',
  },
  match: {
    hint: 'one per line: the one topic, byte for byte (<code>{id}</code> is text, not a template), or <code>*</code> for all',
    example: 'https://example.com/books/1',
    flag: '--match',
    cursor: 'last_event_id',
  },
  topic: {
    hint: 'one per line: <code>https://example.com/books/1</code>, a template like <code>https://example.com/books/{id}</code>, or <code>*</code> for all',
    example: 'https://example.com/books/{id}',
    flag: '--topic',
    cursor: 'lastEventID',
  },
};

const selectorType = (form) => SELECTOR_TYPES[form.get('selectorType')] ?? SELECTOR_TYPES.match_urlpattern;

/** True for an access token (draft-08, `typ: at+jwt`): one that never goes in a URL. */
function isAccessToken(token) {
  try {
    const header = JSON.parse(atob(token.split('.')[0].replaceAll('-', '+').replaceAll('_', '/')));
    return (
      typeof header.typ === 'string' && header.typ.toLowerCase().replace(/^application\//, '') === 'at+jwt'
    );
  } catch {
    return false;
  }
}

function lines(text) {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}

function typeList(text) {
  return text
    .split(/[\s,]+/)
    .filter(Boolean)
    .filter((type) => type !== 'message');
}

/** A shell word: single quotes, with the quotes inside it escaped. */
function quote(text) {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function add(item) {
  emptyNote.remove();
  events.prepend(item);
  while (events.children.length > MAX_ENTRIES) events.lastElementChild.remove();
}

/** A line about the connection (connected, lost, refused…) in the list. */
function note(text, kind = 'info') {
  const item = element('li', `note ${kind}`);
  item.append(element('time', '', new Date().toLocaleTimeString()), element('span', '', text));
  add(item);
}

/** An event as the browser's EventSource delivered it: its type, its ID, its data. */
function show(event) {
  const item = element('li', 'event');
  item.dataset.type = event.type;
  item.dataset.id = event.lastEventId;
  const head = element('div', 'meta');
  head.append(
    element('span', event.type === 'message' ? 'type' : 'type named', event.type),
    element('code', 'id', event.lastEventId || '(no id)'),
    element('time', '', new Date().toLocaleTimeString()),
  );
  item.append(head, element('pre', 'data', event.data));
  add(item);
  received++;
  $('event-count').textContent = `${received} event${received === 1 ? '' : 's'}`;
}

function setStatus(text, kind) {
  const status = $('status');
  status.textContent = text;
  status.className = `status ${kind}`;
}

function subscribeUrl(form) {
  const url = hubUrl();
  const name = form.get('selectorType');
  for (const topic of lines(form.get('topics'))) url.searchParams.append(name, topic);
  const lastEventId = form.get('lastEventId').trim();
  if (lastEventId) url.searchParams.set(selectorType(form).cursor, lastEventId);
  // A browser EventSource cannot send headers: the token goes in the query (in an app, in the cookie).
  const token = form.get('token').trim();
  if (token) url.searchParams.set('authorization', token);
  return url;
}

/** After a refusal, asks the hub once more with fetch, which can read the status and the reason. */
async function explainRefusal(url) {
  const controller = new AbortController();
  try {
    const response = await fetch(url, { signal: controller.signal });
    if (response.ok) {
      controller.abort();
      note(`refused, though the hub now answers ${response.status}: try again`, 'error');
      return;
    }
    note(`refused: ${response.status} ${(await response.text()).trim()}`, 'error');
  } catch {
    note('refused: the hub could not be reached', 'error');
  }
}

function subscribe() {
  source?.close();
  const form = new FormData(subscribeForm);
  const topics = lines(form.get('topics'));
  if (topics.length === 0) {
    setStatus('add a topic first', 'error');
    return;
  }
  if (isAccessToken(form.get('token').trim())) {
    // The URL is the only place an EventSource can carry it, and no access token may go there.
    setStatus('refused', 'error');
    note(
      'an access token (typ at+jwt) never goes in a URL, and an EventSource sends no header: subscribe here with a draft-07 token, or have your app set the __Secure-mercure_access_token cookie for the hub',
      'error',
    );
    return;
  }
  const url = subscribeUrl(form);
  const current = new EventSource(url);
  source = current;
  let opened = false;
  let lastEventId = form.get('lastEventId').trim();
  deliver = (event) => {
    if (event.lastEventId) lastEventId = event.lastEventId;
    show(event);
  };
  current.onmessage = deliver;
  // Updates published with a `type` arrive as events of that name: an EventSource hears only the
  // names it listens to.
  listened = new Set(typeList(form.get('types')));
  for (const type of listened) current.addEventListener(type, deliver);
  current.onopen = () => {
    note(opened ? 'reconnected' : `subscribed to ${topics.join(', ')}`, 'ok');
    opened = true;
    setStatus('connected', 'open');
  };
  current.onerror = () => {
    if (source !== current) return;
    if (current.readyState === EventSource.CLOSED) {
      setStatus('refused', 'error');
      $('unsubscribe-button').disabled = true;
      explainRefusal(url);
      return;
    }
    setStatus('reconnecting…', 'warn');
    const resume = lastEventId ? `, sending Last-Event-ID: ${lastEventId}` : '';
    note(
      opened
        ? `connection lost: the browser reconnects by itself${resume}`
        : 'could not connect: the browser retries',
      'warn',
    );
  };
  setStatus('connecting…', 'connecting');
  $('unsubscribe-button').disabled = false;
}

/** Listens to a named event type on the current subscription, and keeps it in the form for the next. */
function watchType(type) {
  const field = $('event-types');
  const inField = typeList(field.value);
  if (!inField.includes(type)) {
    field.value = [...inField, type].join(', ');
    updateCode();
  }
  if (source && !listened.has(type)) {
    listened.add(type);
    source.addEventListener(type, deliver);
  }
}

subscribeForm.addEventListener('submit', (submit) => {
  submit.preventDefault();
  subscribe();
});

$('unsubscribe-button').addEventListener('click', () => {
  source?.close();
  source = undefined;
  setStatus('not connected', 'idle');
  note('stopped');
  $('unsubscribe-button').disabled = true;
});

$('clear-button').addEventListener('click', () => {
  events.replaceChildren(emptyNote);
  received = 0;
  $('event-count').textContent = '0 events';
});

function publishBody(form) {
  const body = new URLSearchParams();
  for (const topic of lines(form.get('topics'))) body.append('topic', topic);
  body.set('data', form.get('data'));
  for (const name of ['id', 'type', 'retry']) {
    const value = form.get(name).trim();
    if (value) body.set(name, value);
  }
  if (form.get('private')) body.set('private', 'on');
  return body;
}

/** A JavaScript string literal. */
const js = (text) => JSON.stringify(text);

/** Shell lines joined with backslash continuations. */
const shell = (args) => args.join(' \\\n');

/** What the publish form does, as curl, as `siar publish` and as browser code. */
function publishCode(publish) {
  const body = [...publishBody(publish)];
  const token = publish.get('token').trim() || '<publisher JWT>';
  const curl = shell([
    `curl -X POST ${quote(hubUrl().href)}`,
    `  -H ${quote(`Authorization: Bearer ${token}`)}`,
    ...body.map(([name, value]) => `  --data-urlencode ${quote(`${name}=${value}`)}`),
  ]);
  // The form's fields are siar publish's flags, by the same names.
  const flags = body.map(([name, value]) =>
    name === 'private' ? '  --private' : `  --${name} ${quote(value)}`,
  );
  const siar = shell([`siar publish --hub ${quote(hubUrl().href)}`, `  --token ${quote(token)}`, ...flags]);
  const browser = [
    `const response = await fetch(${js(hubUrl().href)}, {`,
    "  method: 'POST',",
    `  headers: { Authorization: ${js(`Bearer ${token}`)} },`,
    '  body: new URLSearchParams([',
    ...body.map(([name, value]) => `    [${js(name)}, ${js(value)}],`),
    '  ]),',
    '});',
    "console.log(response.status, await response.text()); // 200 and the update's ID",
  ].join('\n');
  return { curl, siar, browser };
}

/** What the subscribe form does, as curl, as `siar subscribe` and as browser code. */
function subscribeCode(subscribe) {
  const topics = lines(subscribe.get('topics'));
  const name = subscribe.get('selectorType');
  const { flag, cursor } = selectorType(subscribe);
  const token = subscribe.get('token').trim();
  const lastEventId = subscribe.get('lastEventId').trim();
  const curl = [`curl -N --get ${quote(hubUrl().href)}`];
  const siar = [`siar subscribe ${quote(hubUrl().href)}`];
  if (token) {
    curl.push(`  -H ${quote(`Authorization: Bearer ${token}`)}`);
    siar.push(`  -H ${quote(`Authorization: Bearer ${token}`)}`);
  }
  if (lastEventId) {
    curl.push(`  -H ${quote(`Last-Event-ID: ${lastEventId}`)}`);
    siar.push(`  --last-event-id ${quote(lastEventId)}`);
  }
  for (const topic of topics) {
    curl.push(`  --data-urlencode ${quote(`${name}=${topic}`)}`);
    siar.push(`  ${flag} ${quote(topic)}`);
  }
  const browser = [`const url = new URL(${js(hubUrl().href)});`];
  for (const topic of topics) browser.push(`url.searchParams.append(${js(name)}, ${js(topic)});`);
  if (token) {
    browser.push(
      '// An EventSource sends no headers: the token goes in the query (in an app, prefer the',
      '// mercureAuthorization cookie, with new EventSource(url, { withCredentials: true })).',
      `url.searchParams.set('authorization', ${js(token)});`,
    );
  }
  if (lastEventId) browser.push(`url.searchParams.set(${js(cursor)}, ${js(lastEventId)});`);
  browser.push(
    'const source = new EventSource(url);',
    'source.onmessage = (event) => console.log(event.lastEventId, event.data);',
  );
  for (const type of typeList(subscribe.get('types'))) {
    browser.push(`source.addEventListener(${js(type)}, (event) => console.log(${js(type)}, event.data));`);
  }
  browser.push(
    "source.onerror = () => console.log(source.readyState === EventSource.CLOSED ? 'refused' : 'reconnecting…');",
  );
  return { curl: shell(curl), siar: shell(siar), browser: browser.join('\n') };
}

function updateCode() {
  const publish = publishCode(new FormData(publishForm));
  $('curl').textContent = publish.curl;
  $('publish-siar').textContent = publish.siar;
  $('publish-browser').textContent = publish.browser;
  const subscribe = subscribeCode(new FormData(subscribeForm));
  $('subscribe-curl').textContent = subscribe.curl;
  $('subscribe-siar').textContent = subscribe.siar;
  $('subscribe-browser').textContent = subscribe.browser;
}

publishForm.addEventListener('input', updateCode);
subscribeForm.addEventListener('input', updateCode);

/** A new selector type: its hint, and its example in place of the last type's (text of one's own stays). */
function showSelectorType(previous) {
  const form = new FormData(subscribeForm);
  $('selectors-hint').innerHTML = selectorType(form).hint;
  const field = subscribeForm.elements.topics;
  if (field.value.trim() === SELECTOR_TYPES[previous]?.example) {
    field.value = selectorType(form).example;
  }
  updateCode();
}

let shownType = $('selector-type').value;
$('selector-type').addEventListener('change', () => {
  showSelectorType(shownType);
  shownType = $('selector-type').value;
});

publishForm.addEventListener('submit', async (submit) => {
  submit.preventDefault();
  const form = new FormData(publishForm);
  const type = form.get('type').trim();
  if (type && type !== 'message') watchType(type);
  const result = $('publish-result');
  const button = $('publish-button');
  button.disabled = true;
  result.className = 'result';
  result.textContent = 'publishing…';
  try {
    const response = await fetch(hubUrl(), {
      method: 'POST',
      headers: { authorization: `Bearer ${form.get('token').trim()}` },
      body: publishBody(form),
    });
    const text = (await response.text()).trim();
    result.className = response.ok ? 'result ok' : 'result bad';
    result.textContent = response.ok ? `published ${text}` : `${response.status}: ${text}`;
  } catch (error) {
    result.className = 'result bad';
    result.textContent = `the hub could not be reached (${error.message})`;
  } finally {
    button.disabled = false;
  }
});

// Each code box: tabs choose the form of the code shown, Copy copies the one shown.
for (const box of document.querySelectorAll('.code')) {
  const tabs = box.querySelectorAll('.tab');
  for (const tab of tabs) {
    tab.addEventListener('click', () => {
      for (const other of tabs) {
        other.setAttribute('aria-selected', String(other === tab));
        $(other.dataset.show).hidden = other !== tab;
      }
    });
  }
  const button = box.querySelector('.copy');
  button.addEventListener('click', async () => {
    const shown = box.querySelector('pre:not([hidden])');
    try {
      await navigator.clipboard.writeText(shown.textContent);
      button.textContent = 'Copied';
    } catch {
      // No clipboard outside secure contexts (http on another host than localhost): select it instead.
      getSelection().selectAllChildren(shown);
      button.textContent = 'Selected';
    }
    setTimeout(() => {
      button.textContent = 'Copy';
    }, 1500);
  });
}

async function configure() {
  let config = {};
  try {
    config = await (await fetch('/demo/config.json')).json();
  } catch {
    // The page still works with the defaults; only the hints are missing.
  }
  if (config.hub) hubPath = config.hub;
  // A hub without draft-07 reads no topic selector.
  if (config.draft07 === false) $('selector-type-topic').remove();
  $('selectors-hint').innerHTML = selectorType(new FormData(subscribeForm)).hint;
  $('hub-url').textContent = hubUrl().href;
  $('fact-anonymous').textContent = config.anonymous
    ? 'Anonymous subscribers allowed (public updates)'
    : 'Subscribers need a token';
  if (config.publisherToken) $('publisher-token').value = config.publisherToken;
  if (config.subscriberToken) $('subscriber-token').value = config.subscriberToken;
  const tokens = Boolean(config.publisherToken || config.subscriberToken);
  $('fact-tokens').textContent = tokens ? 'Development tokens filled in' : 'Bring your own tokens';
  if (!config.publisherToken) {
    $('publisher-token-hint').innerHTML =
      "needed: a JWT with a <code>mercure.publish</code> claim; <code>siar token --publish '*' --key &lt;the hub's key&gt;</code> prints one";
  }
  if (!config.anonymous && !config.subscriberToken) {
    $('subscriber-token-hint').innerHTML =
      "needed: this hub refuses subscribers without a token; <code>siar token --subscribe '*' --key &lt;the hub's key&gt;</code> prints one (a draft-07 token: an EventSource carries it in the URL)";
  }
  updateCode();
  document.body.dataset.ready = 'true';
}

configure();
