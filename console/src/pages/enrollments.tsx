import {
  deriveDeviceKey,
  type Enrollment,
  type Layout,
  type NewEnrollment,
  type Registration,
} from '@tethys/sdk';
import type { ComponentChildren } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { href, navigate, pageOf } from '../router.ts';
import {
  type Column,
  Confirm,
  CopyButton,
  download,
  ErrorText,
  Field,
  formatTime,
  Loading,
  Notice,
  PagedTable,
  Secret,
  useAction,
  useLoad,
} from '../ui.tsx';
import { type KeySetting, KeySettingFields } from './forms.tsx';
import { type ParameterRow, ParameterRows, parametersOf, rowsFor } from './parameters.tsx';

/**
 * Enrollment groups: a fleet flashed with one group credential enrolls itself, each
 * device getting its own thing, channels, bootstrap config and certificate from the
 * group's layout. The operator sets the group's rules here and watches who enrolled.
 */

/** How the group's devices prove they belong to it (its attestation). */
const ATTESTATION: Record<string, string> = {
  symmetric_key: 'Shared key',
  x509: 'X.509 certificate',
};

function devices(g: Enrollment): string {
  return `${g.registered.toLocaleString()} / ${g.max_devices === null ? 'no limit' : g.max_devices.toLocaleString()}`;
}

function EnabledBadge({ on }: { on: boolean }) {
  return <span class={on ? 'badge on' : 'badge off'}>{on ? 'enabled' : 'disabled'}</span>;
}

/** Every layout the user may pick: `default`, then theirs. */
async function allLayouts(signal: AbortSignal): Promise<Layout[]> {
  const out: Layout[] = [];
  for await (const l of api(signal).layouts.all()) out.push(l);
  return out;
}

function patternProblem(pattern: string): string {
  if (!pattern) return '';
  try {
    new RegExp(pattern, 'u');
    return '';
  } catch (err) {
    return `not a regular expression (${(err as Error).message})`;
  }
}

function maxProblem(max: string): string {
  return max.trim() === '' || /^[1-9][0-9]*$/.test(max.trim())
    ? ''
    : 'a whole number above 0, or empty for no limit';
}

export function EnrollmentsPage({ query }: { query: URLSearchParams }) {
  const state = pageOf(query, 25);
  const page = useLoad((signal) => api(signal).enrollments.list(state), [state.offset, state.limit]);
  const columns: Column<Enrollment>[] = [
    { key: 'name', label: 'Name', render: (g) => <a href={href(`/enrollments/${g.id}`)}>{g.name}</a> },
    { key: 'attestation', label: 'Credential', render: (g) => ATTESTATION[g.attestation] },
    {
      key: 'layout',
      label: 'Layout',
      render: (g) => <a href={href(`/layouts/${g.layout}`)}>{g.layout}</a>,
    },
    { key: 'enabled', label: 'State', render: (g) => <EnabledBadge on={g.enabled} /> },
    { key: 'devices', label: 'Enrolled / max', render: devices },
  ];
  return (
    <section>
      <div class="page-head">
        <h1>Enrollment groups</h1>
        <div class="actions">
          <button type="button" class="primary" onClick={() => navigate('/enrollments/new')}>
            New enrollment group
          </button>
        </div>
      </div>
      <p class="muted">
        An enrollment group lets a fleet set itself up. Every unit is flashed at the factory with a credential
        of the group; when it first starts, it enrolls itself and gets its own thing, channels, bootstrap
        config and certificate, made from the group's layout. You set the group's rules here.
      </p>
      <PagedTable
        load={page}
        what="enrollment groups"
        rows={(p) => p.enrollments}
        page={state}
        onPage={(offset, limit) => navigate('/enrollments', { offset, limit })}
        caption="Enrollment groups"
        columns={columns}
        rowKey={(g) => g.id}
        onOpen={(g) => navigate(`/enrollments/${g.id}`)}
        empty="No enrollment groups yet."
      />
    </section>
  );
}

function LayoutSelect({
  layouts,
  value,
  onChange,
}: {
  layouts: ReturnType<typeof useLoad<Layout[]>>;
  value: string;
  onChange: (name: string) => void;
}) {
  return (
    <>
      <Field
        label="Layout"
        hint={
          <>
            What each device is made of when it enrolls (<a href="#/layouts">see the layouts</a>).
          </>
        }
      >
        {(id, hint) => (
          <select
            id={id}
            value={value}
            aria-describedby={hint}
            onChange={(e) => onChange((e.target as HTMLSelectElement).value)}
          >
            {(layouts.data ?? [{ name: value }]).map((l) => (
              <option key={l.name} value={l.name}>
                {l.name === 'default' ? "default (the server's)" : l.name}
              </option>
            ))}
          </select>
        )}
      </Field>
      <ErrorText error={layouts.error} prefix="Could not load the layouts" />
    </>
  );
}

export function NewEnrollmentPage() {
  const layouts = useLoad(allLayouts, []);
  const [name, setName] = useState('');
  const [attestation, setAttestation] = useState<'symmetric_key' | 'x509'>('symmetric_key');
  const [caCert, setCaCert] = useState('');
  const [layout, setLayout] = useState('default');
  const declared = layouts.data?.find((l) => l.name === layout)?.parameters;
  const initialRows = useMemo(() => rowsFor(declared), [declared]);
  const [edited, setRows] = useState<ParameterRow[] | null>(null);
  const rows = edited ?? initialRows;
  const [pattern, setPattern] = useState('');
  const [max, setMax] = useState('');
  const [certOn, setCertOn] = useState(false);
  const [key, setKey] = useState<KeySetting>({ keyType: 'ec', bits: 256, valid: '8760h' });
  const [enabled, setEnabled] = useState(true);
  const params = parametersOf(rows, declared);
  const bad = patternProblem(pattern) || maxProblem(max) || params.error;

  const create = useAction(async () => {
    const body: NewEnrollment = {
      name: name.trim(),
      attestation,
      layout,
      parameters: params.value,
      enabled,
      ...(pattern ? { registration_id_pattern: pattern } : {}),
      ...(max.trim() ? { max_devices: Number(max) } : {}),
      ...(attestation === 'x509' ? { ca_cert: caCert } : {}),
      ...(certOn
        ? { certificate: { key_type: key.keyType, key_bits: key.bits, valid: key.valid.trim() } }
        : {}),
    };
    const group = await api().enrollments.create(body);
    navigate(`/enrollments/${group.id}`, { created: 1 });
  });

  return (
    <section>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="#/enrollments">Enrollment groups</a> <span aria-hidden="true">›</span>{' '}
        <span aria-current="page">New</span>
      </nav>
      <h1>New enrollment group</h1>
      <form
        class="card form-narrow"
        onSubmit={(e) => {
          e.preventDefault();
          if (!bad) create.run();
        }}
      >
        <Field label="Name" hint="For you, e.g. the production line or the batch: line-3.">
          {(id, hint) => (
            <input
              id={id}
              required
              maxLength={256}
              aria-describedby={hint}
              value={name}
              onInput={(e) => setName((e.target as HTMLInputElement).value)}
            />
          )}
        </Field>
        <fieldset class="segmented-field">
          <legend>Devices prove they belong to the group with</legend>
          <label>
            <input
              type="radio"
              name="attestation"
              checked={attestation === 'symmetric_key'}
              onChange={() => setAttestation('symmetric_key')}
            />{' '}
            a shared key: the server makes a group key, and each device holds a key derived from it
          </label>
          <label>
            <input
              type="radio"
              name="attestation"
              checked={attestation === 'x509'}
              onChange={() => setAttestation('x509')}
            />{' '}
            an X.509 certificate signed by your certificate authority
          </label>
        </fieldset>
        {attestation === 'x509' ? (
          <Field
            label="Certificate authority (PEM)"
            hint="Devices present a certificate signed by this CA, with their registration id as the subject's common name (CN)."
          >
            {(id, hint) => (
              <textarea
                id={id}
                class="code"
                rows={8}
                required
                spellcheck={false}
                aria-describedby={hint}
                placeholder="-----BEGIN CERTIFICATE-----"
                value={caCert}
                onInput={(e) => setCaCert((e.target as HTMLTextAreaElement).value)}
              />
            )}
          </Field>
        ) : null}
        <LayoutSelect
          layouts={layouts}
          value={layout}
          onChange={(l) => {
            setLayout(l);
            setRows(null);
          }}
        />
        <ParameterRows rows={rows} onChange={setRows} declared={declared} error={params.error} />
        <PatternField value={pattern} onInput={setPattern} />
        <MaxField value={max} onInput={setMax} />
        <fieldset class="params">
          <legend>Certificates</legend>
          <label class="check">
            <input
              type="checkbox"
              checked={certOn}
              onChange={(e) => setCertOn((e.target as HTMLInputElement).checked)}
            />{' '}
            Also make a key and certificate for devices that send no certificate request
          </label>
          <p class="hint">
            A device that sends a certificate request (CSR) always gets a certificate, and its private key
            never leaves it. Without this setting, devices that send none get no certificate.
          </p>
          {certOn ? (
            <div class="row">
              <KeySettingFields value={key} onChange={setKey} validHint="Hours, e.g. 8760h for a year." />
            </div>
          ) : null}
        </fieldset>
        <label class="check">
          <input
            type="checkbox"
            checked={enabled}
            onChange={(e) => setEnabled((e.target as HTMLInputElement).checked)}
          />{' '}
          Enabled: devices may enroll as soon as the group exists
        </label>
        <ErrorText error={create.error} />
        <div class="actions">
          <a href="#/enrollments">Cancel</a>
          <button type="submit" class="primary" disabled={create.busy || Boolean(bad)}>
            {create.busy ? 'Creating…' : 'Create enrollment group'}
          </button>
        </div>
      </form>
    </section>
  );
}

/** A text field checked as it is typed: its problem replaces its hint, and the form waits. */
function CheckedField({
  label,
  value,
  onInput,
  problem,
  hint,
  numeric,
}: {
  label: string;
  value: string;
  onInput: (v: string) => void;
  problem: string;
  hint: ComponentChildren;
  numeric?: boolean;
}) {
  return (
    <Field label={label} hint={problem ? <span class="error">{problem}</span> : hint}>
      {(id, hintId) => (
        <input
          id={id}
          class={numeric ? undefined : 'mono'}
          inputMode={numeric ? 'numeric' : undefined}
          autocomplete="off"
          spellcheck={false}
          value={value}
          aria-invalid={problem ? 'true' : 'false'}
          aria-describedby={hintId}
          onInput={(e) => onInput((e.target as HTMLInputElement).value)}
        />
      )}
    </Field>
  );
}

function PatternField({ value, onInput }: { value: string; onInput: (v: string) => void }) {
  const problem = patternProblem(value);
  return (
    <CheckedField
      label="Registration id pattern (optional)"
      value={value}
      onInput={onInput}
      problem={problem ? `Pattern: ${problem}` : ''}
      hint={
        <>
          A regular expression every device's registration id (such as its serial number) must match, e.g.{' '}
          <code>^SN[0-9]{'{8}'}$</code>. Empty: any id.
        </>
      }
    />
  );
}

function MaxField({ value, onInput }: { value: string; onInput: (v: string) => void }) {
  const problem = maxProblem(value);
  return (
    <CheckedField
      label="Most devices (optional)"
      value={value}
      onInput={onInput}
      problem={problem ? `Most devices: ${problem}` : ''}
      hint="Empty: no limit."
      numeric
    />
  );
}

export function EnrollmentPage({ id, query }: { id: string; query: URLSearchParams }) {
  const group = useLoad((signal) => api(signal).enrollments.get(id), [id]);
  return (
    <Loading load={group} what="enrollment group" back="#/enrollments">
      {(g) => <GroupView group={g} onChange={group.setData} onRefresh={group.reload} query={query} />}
    </Loading>
  );
}

function GroupView({
  group: g,
  onChange,
  onRefresh,
  query,
}: {
  group: Enrollment;
  onChange: (g: Enrollment) => void;
  /** Reads the group again (its count of enrolled devices). */
  onRefresh: () => void;
  query: URLSearchParams;
}) {
  const [removing, setRemoving] = useState(false);
  const address = `${location.origin}/enrollments/${g.id}/register`;
  return (
    <section>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="#/enrollments">Enrollment groups</a> <span aria-hidden="true">›</span>{' '}
        <span aria-current="page">{g.name}</span>
      </nav>
      <div class="page-head">
        <h1>
          {g.name} <EnabledBadge on={g.enabled} />
        </h1>
        <div class="actions">
          <button type="button" class="danger" onClick={() => setRemoving(true)}>
            Delete
          </button>
        </div>
      </div>
      {query.has('created') ? <Notice kind="ok">Created the enrollment group {g.name}.</Notice> : null}
      <dl class="facts">
        <dt>Group id</dt>
        <dd>
          <code class="id">{g.id}</code> <CopyButton text={g.id} label="Copy id" />
        </dd>
        <dt>Enrollment address</dt>
        <dd>
          <code class="id">{address}</code> <CopyButton text={address} label="Copy address" />
        </dd>
        <dt>Credential</dt>
        <dd>{ATTESTATION[g.attestation]}</dd>
        <dt>Layout</dt>
        <dd>
          <a href={href(`/layouts/${g.layout}`)}>{g.layout}</a>
        </dd>
        <dt>Devices</dt>
        <dd>
          {g.registered.toLocaleString()} enrolled,{' '}
          {g.max_devices === null ? 'no limit' : `at most ${g.max_devices.toLocaleString()}`}
        </dd>
        <dt>Certificates</dt>
        <dd>
          {g.certificate
            ? `for every device: a ${g.certificate.key_type.toUpperCase()} ${g.certificate.key_bits}-bit key made by the server when the device sends no certificate request, valid ${g.certificate.valid}`
            : 'only for devices that send a certificate request'}
        </dd>
        <dt>Created</dt>
        <dd>{formatTime(g.created_at)}</dd>
      </dl>
      {g.attestation === 'symmetric_key' ? <KeyPanel group={g} onChange={onChange} /> : <CaPanel group={g} />}
      <SettingsPanel group={g} onChange={onChange} />
      <RegistrationsPanel group={g} query={query} onRefresh={onRefresh} />
      {removing ? (
        <Confirm
          title="Delete enrollment group"
          message={
            <p>
              Delete the group <strong>{g.name}</strong>? Devices that already enrolled stay as they are, with
              their things, channels, bootstrap configs and certificates. Devices that have not enrolled yet
              can no longer enroll through it.
            </p>
          }
          confirmLabel="Delete group"
          onConfirm={async () => {
            await api().enrollments.remove(g.id);
            navigate('/enrollments');
          }}
          onClose={() => setRemoving(false)}
        />
      ) : null}
    </section>
  );
}

function KeyPanel({ group: g, onChange }: { group: Enrollment; onChange: (g: Enrollment) => void }) {
  const [rotating, setRotating] = useState(false);
  const [notice, setNotice] = useState('');
  const key = g.group_key ?? '';
  return (
    <section class="panel" aria-labelledby="key-title">
      <div class="page-head">
        <h2 id="key-title">Group key</h2>
        <div class="actions">
          <button type="button" onClick={() => setRotating(true)}>
            Rotate key…
          </button>
        </div>
      </div>
      {notice ? <Notice kind="ok">{notice}</Notice> : null}
      <p>{key ? <Secret key={key} value={key} label="Group key" /> : <span class="muted">—</span>}</p>
      <p class="muted small-text">
        A device never holds the group key. Each holds its own device key, made from the group key and the
        device's registration id (such as its serial number), which it sends as{' '}
        <code>Authorization: SharedKey &lt;device key&gt;</code> to the enrollment address. A leaked device
        then exposes only itself.
      </p>
      {key ? <DeviceKeyForm groupKey={key} /> : null}
      {rotating ? (
        <Confirm
          title="Rotate the group key"
          message={
            <p>
              Make a new group key? The current one stops working at once: devices that have not enrolled yet
              need device keys made from the new key. Devices already enrolled keep working.
            </p>
          }
          confirmLabel="Rotate key"
          onConfirm={async () => {
            const fresh = await api().enrollments.rotateKey(g.id);
            onChange({ ...g, group_key: fresh });
            setNotice('The group key was rotated: the key below is new, and the old one no longer works.');
          }}
          onClose={() => setRotating(false)}
        />
      ) : null}
    </section>
  );
}

/** Computes a device's key in the browser (WebCrypto), for flashing one unit by hand. */
function DeviceKeyForm({ groupKey }: { groupKey: string }) {
  const [registrationId, setRegistrationId] = useState('');
  const [result, setResult] = useState<{ id: string; key: string } | null>(null);
  const compute = useAction(async () => {
    if (!globalThis.crypto?.subtle)
      throw new Error('This browser computes keys only on a page served over HTTPS or from this computer.');
    const id = registrationId.trim();
    setResult({ id, key: await deriveDeviceKey(groupKey, id) });
  });
  return (
    <form
      class="device-key"
      onSubmit={(e) => {
        e.preventDefault();
        compute.run();
      }}
    >
      <Field label="Registration id of a device">
        {(id) => (
          <input
            id={id}
            required
            autocomplete="off"
            value={registrationId}
            onInput={(e) => setRegistrationId((e.target as HTMLInputElement).value)}
          />
        )}
      </Field>
      <button type="submit" class="device-key-make" disabled={compute.busy}>
        Make its device key
      </button>
      <ErrorText error={compute.error} />
      {result?.key ? (
        <p class="device-key-result">
          Device key of <code>{result.id}</code>:{' '}
          <Secret key={result.key} value={result.key} label={`Device key of ${result.id}`} />
        </p>
      ) : null}
    </form>
  );
}

function CaPanel({ group: g }: { group: Enrollment }) {
  return (
    <section class="panel" aria-labelledby="ca-title">
      <h2 id="ca-title">Certificate authority</h2>
      <p class="muted small-text">
        Devices enroll over the server's HTTPS port with a client certificate signed by this authority, whose
        subject common name (CN) is their registration id.
      </p>
      <pre class="json">{g.ca_cert}</pre>
      {g.ca_cert ? (
        <p>
          <button type="button" class="small" onClick={() => download('enrollment-ca.pem', g.ca_cert!)}>
            Download
          </button>
        </p>
      ) : null}
    </section>
  );
}

function SettingsPanel({ group: g, onChange }: { group: Enrollment; onChange: (g: Enrollment) => void }) {
  const layout = useLoad((signal) => api(signal).layouts.get(g.layout), [g.layout]);
  const declared = layout.data?.parameters;
  const initialRows = useMemo(() => rowsFor(declared, g.parameters), [declared, g.parameters]);
  const [edited, setRows] = useState<ParameterRow[] | null>(null);
  const rows = edited ?? initialRows;
  const [enabled, setEnabled] = useState(g.enabled);
  const [max, setMax] = useState(g.max_devices === null ? '' : String(g.max_devices));
  const [pattern, setPattern] = useState(g.registration_id_pattern);
  const [notice, setNotice] = useState('');
  const params = parametersOf(rows, declared);
  const bad = patternProblem(pattern) || maxProblem(max) || params.error;
  const save = useAction(async () => {
    setNotice('');
    const saved = await api().enrollments.update(g.id, {
      enabled,
      max_devices: max.trim() ? Number(max) : null,
      registration_id_pattern: pattern,
      parameters: params.value,
    });
    onChange(saved);
    setRows(null);
    setNotice('Saved. Devices enrolling from now on get these settings.');
  });
  return (
    <section class="panel" aria-labelledby="settings-title">
      <h2 id="settings-title">Settings</h2>
      <form
        class="form-narrow"
        onSubmit={(e) => {
          e.preventDefault();
          if (!bad) save.run();
        }}
      >
        <label class="check">
          <input
            type="checkbox"
            checked={enabled}
            onChange={(e) => setEnabled((e.target as HTMLInputElement).checked)}
          />{' '}
          Enabled: devices may enroll
        </label>
        <MaxField value={max} onInput={setMax} />
        <PatternField value={pattern} onInput={setPattern} />
        <ErrorText error={layout.error} prefix={`Could not load the layout ${g.layout}`} />
        <ParameterRows rows={rows} onChange={setRows} declared={declared} error={params.error} />
        <ErrorText error={save.error} />
        {notice ? <Notice kind="ok">{notice}</Notice> : null}
        <div class="actions left">
          <button type="submit" class="primary" disabled={save.busy || Boolean(bad)}>
            {save.busy ? 'Saving…' : 'Save settings'}
          </button>
        </div>
      </form>
    </section>
  );
}

function RegistrationsPanel({
  group: g,
  query,
  onRefresh,
}: {
  group: Enrollment;
  query: URLSearchParams;
  onRefresh: () => void;
}) {
  const state = pageOf(query, 10);
  const list = useLoad(
    (signal) => api(signal).enrollments.registrations(g.id, state),
    [g.id, state.offset, state.limit],
  );
  const columns: Column<Registration>[] = [
    {
      key: 'registration_id',
      label: 'Registration id',
      render: (r) => <code>{r.registration_id}</code>,
    },
    {
      key: 'thing',
      label: 'Thing',
      render: (r) => (
        <a href={href(`/things/${r.thing_id}`)}>
          <code class="id">{r.thing_id}</code>
        </a>
      ),
    },
    { key: 'first', label: 'First enrolled', render: (r) => formatTime(r.first_enrolled) },
    { key: 'last', label: 'Last enrolled', render: (r) => formatTime(r.last_enrolled) },
    { key: 'count', label: 'Times enrolled', render: (r) => r.count.toLocaleString() },
  ];
  return (
    <section class="panel" aria-labelledby="registrations-title">
      <div class="page-head">
        <h2 id="registrations-title">Enrolled devices</h2>
        <div class="actions">
          <button
            type="button"
            class="small"
            disabled={list.loading}
            onClick={() => {
              list.reload();
              onRefresh();
            }}
          >
            Refresh
          </button>
        </div>
      </div>
      <p class="muted small-text">
        A device that enrolls again (after a reset, say) gets the same thing back; the count goes up.
      </p>
      <PagedTable
        load={list}
        what="enrolled devices"
        rows={(p) => p.registrations}
        page={state}
        onPage={(offset, limit) => navigate(`/enrollments/${g.id}`, { offset, limit })}
        caption="Enrolled devices"
        columns={columns}
        rowKey={(r) => r.registration_id}
        onOpen={(r) => navigate(`/things/${r.thing_id}`)}
        empty="No device has enrolled yet."
      />
    </section>
  );
}
