import type { Channel, IssuedCert, Thing } from '@tethys/sdk';
import { useState } from 'preact/hooks';
import { api, type EntityKind, orMissing } from '../api.ts';
import { gatewayOf, MetadataFacts } from '../metadata.tsx';
import { href, navigate } from '../router.ts';
import {
  Busy,
  Confirm,
  CopyButton,
  Dialog,
  download,
  ErrorText,
  Field,
  formatTime,
  Loading,
  Notice,
  Pager,
  Secret,
  useAction,
  useLoad,
} from '../ui.tsx';
import { ChannelChips, ConfigContent } from './bootstrap.tsx';
import { ConnectionsPanel } from './connections.tsx';
import { EntityForm, type KeySetting, KeySettingFields, SINGULAR, TITLE } from './forms.tsx';
import { ThingGroupsPanel } from './groups.tsx';
import { HistoryPanel } from './history.tsx';
import { LiveView } from './live.tsx';

function Header({
  kind,
  entity,
  onEdited,
}: {
  kind: EntityKind;
  entity: Thing | Channel;
  onEdited: () => void;
}) {
  const [dialog, setDialog] = useState<'' | 'edit' | 'delete'>('');
  const what = SINGULAR[kind];
  return (
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={`#/${kind}`}>{TITLE[kind]}</a> <span aria-hidden="true">›</span>{' '}
        <span aria-current="page">{entity.name || entity.id}</span>
      </nav>
      <div class="page-head">
        <h1>{entity.name || <em>unnamed {what}</em>}</h1>
        <div class="actions">
          <button type="button" onClick={() => setDialog('edit')}>
            Edit
          </button>
          <button type="button" class="danger" onClick={() => setDialog('delete')}>
            Delete
          </button>
        </div>
      </div>
      <dl class="facts">
        <dt>ID</dt>
        <dd>
          <code class="id">{entity.id}</code> <CopyButton text={entity.id} label="Copy id" />
        </dd>
        <dt>{gatewayOf(entity.metadata) ? 'Gateway' : 'Metadata'}</dt>
        <dd>
          <MetadataFacts metadata={entity.metadata} />
        </dd>
      </dl>
      {dialog === 'edit' ? (
        <EntityForm
          kind={kind}
          entity={entity}
          onClose={() => setDialog('')}
          onSaved={() => {
            setDialog('');
            onEdited();
          }}
        />
      ) : null}
      {dialog === 'delete' ? (
        <Confirm
          title={`Delete ${what}`}
          message={
            <p>
              Delete <strong>{entity.name || entity.id}</strong> and its connections? This cannot be undone.
            </p>
          }
          confirmLabel={`Delete ${what}`}
          onConfirm={async () => {
            await api()[kind].remove(entity.id);
            navigate(`/${kind}`);
          }}
          onClose={() => setDialog('')}
        />
      ) : null}
    </>
  );
}

export function ThingPage({ id }: { id: string }) {
  const thing = useLoad((signal) => api(signal).things.get(id), [id]);
  return (
    <Loading load={thing} what="thing" back="#/things">
      {(t) => (
        <section>
          <Header kind="things" entity={t} onEdited={thing.reload} />
          <KeyPanel thing={t} onChanged={thing.reload} />
          <ConnectionsPanel kind="things" id={t.id} />
          <CertsPanel thing={t} />
          <ConfigPanel thing={t} />
          <ThingGroupsPanel thingId={t.id} />
          <HistoryPanel kind="things" id={t.id} />
        </section>
      )}
    </Loading>
  );
}

export function ChannelPage({ id }: { id: string }) {
  const channel = useLoad((signal) => api(signal).channels.get(id), [id]);
  return (
    <Loading load={channel} what="channel" back="#/channels">
      {(c) => (
        <section>
          <Header kind="channels" entity={c} onEdited={channel.reload} />
          <LiveView channel={c} />
          <ConnectionsPanel kind="channels" id={c.id} />
          <HistoryPanel kind="channels" id={c.id} />
        </section>
      )}
    </Loading>
  );
}

function KeyPanel({ thing, onChanged }: { thing: Thing; onChanged: () => void }) {
  const [changing, setChanging] = useState(false);
  const [key, setKey] = useState('');
  const [notice, setNotice] = useState('');
  const change = useAction(async () => {
    await api().things.updateKey(thing.id, key);
    setChanging(false);
    setKey('');
    setNotice('The key was changed. Devices using the old key lost access at once.');
    onChanged();
  });
  return (
    <section class="panel" aria-labelledby="key-title">
      <h2 id="key-title">Key</h2>
      <p>
        <Secret value={thing.key} label="Thing key" />{' '}
        <button type="button" class="small" onClick={() => setChanging(true)}>
          Change key…
        </button>
      </p>
      <p class="muted small-text">
        Devices sign in with this key. Over HTTP they send the header{' '}
        <code>Authorization: Thing &lt;key&gt;</code>; over MQTT they use the thing's id as user name and the
        key as password.
      </p>
      {notice ? <Notice kind="ok">{notice}</Notice> : null}
      {changing ? (
        <Dialog title="Change the key" onClose={() => setChanging(false)}>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              change.run();
            }}
          >
            <Field label="New key" hint="Any text up to 4096 characters, unique across all accounts.">
              {(id, hint) => (
                <input
                  id={id}
                  required
                  autocomplete="off"
                  aria-describedby={hint}
                  value={key}
                  onInput={(e) => setKey((e.target as HTMLInputElement).value)}
                />
              )}
            </Field>
            <button type="button" class="small link" onClick={() => setKey(crypto.randomUUID())}>
              Generate a random key
            </button>
            <p class="warn-text">Devices using the current key lose access as soon as you save.</p>
            <ErrorText error={change.error} />
            <div class="actions">
              <button type="button" onClick={() => setChanging(false)}>
                Cancel
              </button>
              <button type="submit" class="primary" disabled={change.busy || !key}>
                {change.busy ? 'Saving…' : 'Change key'}
              </button>
            </div>
          </form>
        </Dialog>
      ) : null}
    </section>
  );
}

const SOON_MS = 30 * 24 * 3600 * 1000;
const expiresSoon = (expire?: string | null) => !!expire && Date.parse(expire) - Date.now() < SOON_MS;

function CertsPanel({ thing }: { thing: Thing }) {
  const [offset, setOffset] = useState(0);
  const [limit, setLimit] = useState(10);
  const [issuing, setIssuing] = useState(false);
  const [revoking, setRevoking] = useState(false);
  const [issued, setIssued] = useState<IssuedCert | null>(null);
  const [notice, setNotice] = useState('');
  const list = useLoad(
    (signal) => api(signal).certs.list(thing.id, { offset, limit }),
    [thing.id, offset, limit],
  );
  const base = (thing.name || thing.id).replace(/[^A-Za-z0-9._-]+/g, '_');
  const active = list.data?.certs.some((c) => !c.revoked) ?? false;
  return (
    <section class="panel" aria-labelledby="certs-title">
      <div class="page-head">
        <h2 id="certs-title">Certificates</h2>
        <div class="actions">
          <button type="button" onClick={() => setIssuing(true)}>
            Issue certificate…
          </button>
          <button type="button" class="danger" disabled={!active} onClick={() => setRevoking(true)}>
            Revoke certificates…
          </button>
        </div>
      </div>
      {notice ? <Notice kind="ok">{notice}</Notice> : null}
      {issued ? (
        <section class="card issued" aria-label="Issued certificate">
          <p>
            <strong>Certificate {issued.cert_serial} issued.</strong> The private key is not kept by the
            server: download it now.
          </p>
          <div class="actions left">
            <button type="button" onClick={() => download(`${base}-cert.pem`, issued.cert)}>
              Download certificate
            </button>
            {issued.cert_key ? (
              <button type="button" onClick={() => download(`${base}-key.pem`, issued.cert_key!)}>
                Download private key
              </button>
            ) : null}
            <button type="button" onClick={() => download('ca.pem', issued.ca_cert)}>
              Download CA certificate
            </button>
            <button type="button" class="small link" onClick={() => setIssued(null)}>
              Dismiss
            </button>
          </div>
        </section>
      ) : null}
      <ErrorText error={list.error} prefix="Could not load the certificates" />
      {list.loading && !list.data ? <Busy label="Loading certificates…" /> : null}
      {list.data ? (
        list.data.certs.length === 0 ? (
          <p class="muted">No certificate issued for this thing.</p>
        ) : (
          <>
            <div class="table-wrap">
              <table class="data">
                <caption class="visually-hidden">Certificates of this thing</caption>
                <thead>
                  <tr>
                    <th scope="col">Serial</th>
                    <th scope="col">Key</th>
                    <th scope="col">Expires</th>
                    <th scope="col">Status</th>
                  </tr>
                </thead>
                <tbody>
                  {list.data.certs.map((c) => (
                    <tr key={c.cert_serial}>
                      <td data-label="Serial">
                        <code class="id">{c.cert_serial}</code>
                      </td>
                      <td data-label="Key">{c.key_type ?? '—'}</td>
                      <td data-label="Expires">{formatTime(c.expire)}</td>
                      <td data-label="Status">
                        {c.revoked ? (
                          <span class="badge off">revoked {formatTime(c.revocation_time)}</span>
                        ) : expiresSoon(c.expire) ? (
                          <span class="badge soon">expires within 30 days</span>
                        ) : (
                          <span class="badge on">valid</span>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager
              label="Certificates"
              total={list.data.total}
              offset={offset}
              limit={limit}
              onChange={(o, l) => {
                setOffset(o);
                setLimit(l);
              }}
            />
          </>
        )
      ) : null}
      {issuing ? (
        <IssueDialog
          thing={thing}
          onClose={() => setIssuing(false)}
          onIssued={(c) => {
            setIssuing(false);
            setIssued(c);
            setNotice('');
            list.reload();
          }}
        />
      ) : null}
      {revoking ? (
        <Confirm
          title="Revoke certificates"
          message={
            <p>
              Revoke every valid certificate of <strong>{thing.name || thing.id}</strong>? MQTT sessions that
              use them are closed, and they are added to the revocation list.
            </p>
          }
          confirmLabel="Revoke"
          onConfirm={async () => {
            const revokedAt = await api().certs.revoke(thing.id);
            setNotice(`Revoked at ${formatTime(revokedAt)}.`);
            setIssued(null);
          }}
          onClose={() => {
            setRevoking(false);
            list.reload();
          }}
        />
      ) : null}
    </section>
  );
}

function IssueDialog({
  thing,
  onClose,
  onIssued,
}: {
  thing: Thing;
  onClose: () => void;
  onIssued: (c: IssuedCert) => void;
}) {
  const [key, setKey] = useState<KeySetting>({ keyType: 'rsa', bits: 2048, valid: '8760h' });
  const issue = useAction(async () => {
    onIssued(
      await api().certs.issue({
        thing_id: thing.id,
        key_type: key.keyType,
        key_bits: key.bits,
        valid: key.valid,
      }),
    );
  });
  return (
    <Dialog title="Issue a certificate" onClose={onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          issue.run();
        }}
      >
        <KeySettingFields
          value={key}
          onChange={setKey}
          validHint="A duration such as 720h (30 days) or 8760h (a year); empty for the server's default."
        />
        <ErrorText error={issue.error} />
        {issue.busy ? <Busy label="Generating the key and issuing the certificate…" /> : null}
        <div class="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={issue.busy}>
            Issue
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function ConfigPanel({ thing }: { thing: Thing }) {
  const thingId = thing.id;
  // A gateway's external key is shown with its metadata already.
  const shownKey = gatewayOf(thing.metadata)?.externalKey;
  const config = useLoad((signal) => orMissing(api(signal).bootstrap.get(thingId)), [thingId]);
  return (
    <section class="panel" aria-labelledby="config-title">
      <h2 id="config-title">Bootstrap config</h2>
      <ErrorText error={config.error} prefix="Could not load the bootstrap config" />
      {config.loading ? <Busy label="Loading the bootstrap config…" /> : null}
      {!config.loading && !config.error && !config.data ? (
        <p class="muted">This thing has no bootstrap config.</p>
      ) : null}
      {config.data ? (
        <>
          <dl class="facts">
            <dt>Name</dt>
            <dd>{config.data.name || <span class="muted">none (shown by this thing's name)</span>}</dd>
            <dt>External id</dt>
            <dd>
              <code>{config.data.external_id}</code>
            </dd>
            {config.data.external_key && config.data.external_key !== shownKey ? (
              <>
                <dt>External key</dt>
                <dd>
                  <Secret value={config.data.external_key} label="External key" />
                </dd>
              </>
            ) : null}
            <dt>State</dt>
            <dd>
              {config.data.state === 1 ? (
                <span class="badge on">active</span>
              ) : (
                <span class="badge off">inactive</span>
              )}
            </dd>
            <dt>Channels</dt>
            <dd>
              <ChannelChips channels={config.data.mainflux_channels} />
            </dd>
            <dt>Content</dt>
            <dd>
              <ConfigContent content={config.data.content} />
            </dd>
          </dl>
          <p>
            <a href={href('/bootstrap', { external_id: config.data.external_id })}>
              Manage it in Bootstrap configs
            </a>
          </p>
        </>
      ) : null}
    </section>
  );
}
