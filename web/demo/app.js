// The demo page: a plain browser EventSource and fetch, nothing else, so it reads as documentation.
const $ = (id) => document.getElementById(id);
const events = $('events');
let source;

function lines(text) {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}

function note(text) {
  const item = document.createElement('li');
  item.className = 'note';
  item.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  events.prepend(item);
}

function show(event) {
  const item = document.createElement('li');
  item.className = 'event';
  const meta = document.createElement('div');
  meta.className = 'meta';
  meta.textContent = `${new Date().toLocaleTimeString()} · ${event.type} · id ${event.lastEventId}`;
  const data = document.createElement('pre');
  data.className = 'data';
  data.textContent = event.data;
  item.append(meta, data);
  events.prepend(item);
}

function setStatus(text, kind) {
  const status = $('status');
  status.textContent = text;
  status.className = `status ${kind}`;
}

$('subscribe-form').addEventListener('submit', (submit) => {
  submit.preventDefault();
  source?.close();
  const form = new FormData(submit.target);
  const url = new URL('/.well-known/mercure', location.href);
  for (const topic of lines(form.get('topics'))) url.searchParams.append('topic', topic);
  if (form.get('lastEventId')) url.searchParams.set('lastEventID', form.get('lastEventId'));
  if (form.get('token')) url.searchParams.set('authorization', form.get('token'));
  source = new EventSource(url);
  setStatus('connecting…', 'closed');
  source.onopen = () => {
    setStatus('connected', 'open');
    note('connected');
  };
  source.onerror = () => {
    const closed = source.readyState === EventSource.CLOSED;
    setStatus(closed ? 'refused (check the topics and token)' : 'reconnecting…', 'error');
    note(closed ? 'connection refused' : 'connection lost, reconnecting');
  };
  source.onmessage = show;
  // Updates published with a "type" arrive as named events; listen to the one the form names.
  const type = document.querySelector('#publish-form [name=type]').value.trim();
  if (type) source.addEventListener(type, show);
  $('unsubscribe-button').disabled = false;
});

$('unsubscribe-button').addEventListener('click', () => {
  source?.close();
  setStatus('not connected', 'closed');
  note('stopped');
  $('unsubscribe-button').disabled = true;
});

function publishBody(form) {
  const body = new URLSearchParams();
  for (const topic of lines(form.get('topics'))) body.append('topic', topic);
  body.set('data', form.get('data'));
  for (const name of ['id', 'type', 'retry']) if (form.get(name)) body.set(name, form.get(name));
  if (form.get('private')) body.set('private', 'on');
  return body;
}

function updateCurl() {
  const form = new FormData($('publish-form'));
  const body = publishBody(form);
  const args = [...body].map(
    ([name, value]) => `  --data-urlencode '${name}=${value.replaceAll("'", "'\\''")}'`,
  );
  $('curl').textContent = [
    `curl -X POST ${new URL('/.well-known/mercure', location.href)} \\`,
    `  -H 'Authorization: Bearer ${form.get('token') || '<publisher JWT>'}' \\`,
    args.join(' \\\n'),
  ].join('\n');
}

$('publish-form').addEventListener('input', updateCurl);
$('publish-form').addEventListener('submit', async (submit) => {
  submit.preventDefault();
  const form = new FormData(submit.target);
  const result = $('publish-result');
  const response = await fetch('/.well-known/mercure', {
    method: 'POST',
    headers: { authorization: `Bearer ${form.get('token')}` },
    body: publishBody(form),
  });
  const text = await response.text();
  result.className = response.ok ? 'result' : 'result bad';
  result.textContent = response.ok ? `published ${text}` : `${response.status}: ${text}`;
});

const config = await fetch('/demo/config.json').then((response) => response.json());
if (config.publisherToken) $('publisher-token').value = config.publisherToken;
if (config.subscriberToken) $('subscriber-token').value = config.subscriberToken;
updateCurl();
