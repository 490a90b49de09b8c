import { type Channel, TethysError, type Thing } from '@tethys/sdk';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { brokerUrl, MqttSubscriber } from '../mqtt.ts';
import { Busy, ErrorText, useAction, useLoad } from '../ui.tsx';

/**
 * Live messages of a channel over MQTT-over-WebSocket (ws(s)://<this host>/mqtt). MQTT
 * lets only a thing connected to the channel subscribe, so the console subscribes as
 * one thing of yours named "tethys-console" (metadata {"type": "console"}): it is
 * created when you first ask for it and connected to each channel you watch.
 */

export const CONSOLE_METADATA = { type: 'console' };
export const CONSOLE_NAME = 'tethys-console';
const KEEP = 200;

interface Received {
  n: number;
  topic: string;
  subtopic: string;
  at: Date;
  payload: Uint8Array;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function renderPayload(payload: Uint8Array): { text: string; kind: string } {
  if (payload.length === 0) return { text: '', kind: 'empty' };
  try {
    const text = utf8.decode(payload);
    try {
      return { text: JSON.stringify(JSON.parse(text), null, 2), kind: 'JSON' };
    } catch {
      return { text, kind: 'text' };
    }
  } catch {
    const hex = Array.from(payload.subarray(0, 256), (b) => b.toString(16).padStart(2, '0')).join(' ');
    return { text: payload.length > 256 ? `${hex} …` : hex, kind: 'binary (hex)' };
  }
}

async function findConsoleThing(signal?: AbortSignal): Promise<Thing | null> {
  const page = await api(signal).things.list({
    offset: 0,
    limit: 1,
    metadata: CONSOLE_METADATA,
    order: 'name',
    dir: 'asc',
  });
  return page.things[0] ?? null;
}

export function LiveView({ channel }: { channel: Channel }) {
  const consoleThing = useLoad((signal) => findConsoleThing(signal), []);
  const [status, setStatus] = useState<'off' | 'connecting' | 'live'>('off');
  const [closed, setClosed] = useState('');
  const [messages, setMessages] = useState<Received[]>([]);
  const [paused, setPaused] = useState(false);
  const subscriber = useRef<MqttSubscriber | null>(null);
  const counter = useRef(0);
  const pausedRef = useRef(false);
  pausedRef.current = paused;

  useEffect(() => () => subscriber.current?.close(), []);

  const prefix = `channels/${channel.id}/messages`;
  const start = useAction(async () => {
    setClosed('');
    let thing = consoleThing.data ?? (await findConsoleThing());
    if (!thing) {
      const id = await api().things.create({ name: CONSOLE_NAME, metadata: CONSOLE_METADATA });
      thing = await api().things.get(id);
      consoleThing.setData(thing);
    }
    try {
      await api().connect([channel.id], [thing.id]);
    } catch (err) {
      // Already connected is what we want.
      if (!(err instanceof TethysError && err.status === 409)) throw err;
    }
    setStatus('connecting');
    const sub = new MqttSubscriber({
      url: brokerUrl(),
      username: thing.id,
      password: thing.key,
      topics: [prefix, `${prefix}/#`],
      onReady: () => setStatus('live'),
      onMessage: (m) => {
        if (pausedRef.current) return;
        const rest = m.topic.startsWith(prefix) ? m.topic.slice(prefix.length + 1) : m.topic;
        const received: Received = {
          n: ++counter.current,
          topic: m.topic,
          subtopic: rest.split('/').filter(Boolean).join('.'),
          at: m.receivedAt,
          payload: m.payload,
        };
        setMessages((list) => [received, ...list].slice(0, KEEP));
      },
      onClose: (reason) => {
        subscriber.current = null;
        setStatus('off');
        setClosed(reason);
      },
    });
    subscriber.current = sub;
    sub.start();
  });

  const stop = () => {
    subscriber.current?.close();
    subscriber.current = null;
    setStatus('off');
  };

  return (
    <section class="panel" aria-labelledby="live-title">
      <div class="page-head">
        <h2 id="live-title">Live messages</h2>
        <div class="actions">
          {status === 'off' ? (
            <button
              type="button"
              class="primary"
              disabled={start.busy || consoleThing.loading}
              onClick={() => start.run()}
            >
              {consoleThing.data || consoleThing.loading
                ? 'Start live view'
                : `Create "${CONSOLE_NAME}" and start`}
            </button>
          ) : (
            <>
              <button type="button" aria-pressed={paused} onClick={() => setPaused(!paused)}>
                {paused ? 'Resume' : 'Pause'}
              </button>
              <button type="button" onClick={stop}>
                Stop
              </button>
            </>
          )}
          <button type="button" disabled={messages.length === 0} onClick={() => setMessages([])}>
            Clear
          </button>
        </div>
      </div>
      <p class="muted small-text">
        {consoleThing.data ? (
          <>
            The console listens as your thing{' '}
            <a href={`#/things/${consoleThing.data.id}`}>{consoleThing.data.name || consoleThing.data.id}</a>,
            which it connects to this channel when you start. Disconnect it from the channel to take that
            access back.
          </>
        ) : (
          <>
            Only a thing connected to a channel can listen to it. Starting the live view creates a thing named{' '}
            <code>{CONSOLE_NAME}</code> for the console once, and connects it to this channel.
          </>
        )}{' '}
        A message does not say which thing sent it; its time is when this browser received it.
      </p>
      <ErrorText error={consoleThing.error} prefix="Could not look up the console thing" />
      <ErrorText error={start.error} prefix="Could not start the live view" />
      {closed ? (
        <p class="error" role="alert">
          Live view stopped: {closed}.
        </p>
      ) : null}
      {start.busy || status === 'connecting' ? <Busy label="Connecting to the broker…" /> : null}
      {status === 'live' ? (
        <p class="live-status" role="status">
          <span class="dot" aria-hidden="true" /> {paused ? 'Paused' : 'Listening'} on <code>{prefix}/#</code>
        </p>
      ) : null}
      <ol class="messages" aria-live="polite" aria-label="Messages received, newest first">
        {messages.map((m) => {
          const p = renderPayload(m.payload);
          return (
            <li key={m.n} class="message">
              <div class="message-head">
                <time dateTime={m.at.toISOString()}>{m.at.toLocaleTimeString()}</time>
                <span>
                  subtopic <code>{m.subtopic || '—'}</code>
                </span>
                <span class="muted">
                  {p.kind}, {m.payload.length} bytes
                </span>
              </div>
              <pre class="json">{p.text}</pre>
            </li>
          );
        })}
      </ol>
      {status === 'live' && messages.length === 0 ? (
        <p class="muted">No message yet. Messages published on this channel appear here.</p>
      ) : null}
    </section>
  );
}
