import { type Provisioned, TethysError } from '@tethys/sdk';
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { MetadataView } from '../metadata.tsx';
import { Busy, download, ErrorText, Field, Secret, SecretCommand, shellQuote, useAction } from '../ui.tsx';

/**
 * One POST /mapping makes a gateway's things, channels, bootstrap configs, connections
 * and (when the server is set up for it) certificates, all or nothing.
 */
export function ProvisionPage() {
  const [externalId, setExternalId] = useState('');
  const [externalKey, setExternalKey] = useState('');
  const [name, setName] = useState('');
  const [result, setResult] = useState<{
    data: Provisioned;
    externalId: string;
    externalKey: string;
  } | null>(null);
  const provision = useAction(async () => {
    setResult(null);
    let data: Provisioned;
    try {
      data = await api().provision(externalId.trim(), externalKey, name.trim() || undefined);
    } catch (err) {
      // 0.12.1 answered 201 with an "error" field on failure (the SDK throws it with that status);
      // Tethys answers an error status. Handle both.
      if (err instanceof TethysError && err.status < 400)
        throw new Error(`Provisioning failed: ${err.message}`);
      throw err;
    }
    setResult({ data, externalId: externalId.trim(), externalKey });
  });

  return (
    <section>
      <h1>Provision a gateway</h1>
      <p class="muted">
        Creates the gateway's things and channels from the server's provision layout, their bootstrap configs,
        connections and, where the server is set up for it, certificates, in one step. If any step fails,
        nothing is left behind.
      </p>
      <form
        class="card form-narrow"
        onSubmit={(e) => {
          e.preventDefault();
          provision.run();
        }}
      >
        <Field
          label="External id"
          hint="The gateway's own identifier, e.g. its MAC address or serial number. Unique."
        >
          {(id, hint) => (
            <input
              id={id}
              required
              aria-describedby={hint}
              value={externalId}
              onInput={(e) => setExternalId((e.target as HTMLInputElement).value)}
            />
          )}
        </Field>
        <Field label="External key" hint="The secret the gateway presents to fetch its bootstrap config.">
          {(id, hint) => (
            <input
              id={id}
              required
              autocomplete="off"
              aria-describedby={hint}
              value={externalKey}
              onInput={(e) => setExternalKey((e.target as HTMLInputElement).value)}
            />
          )}
        </Field>
        <button type="button" class="small link" onClick={() => setExternalKey(crypto.randomUUID())}>
          Generate a random external key
        </button>
        <Field label="Name (optional)">
          {(id) => (
            <input id={id} value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
          )}
        </Field>
        <ErrorText error={provision.error} />
        {provision.busy ? <Busy label="Provisioning (certificates can take a few seconds)…" /> : null}
        <div class="actions">
          <button type="submit" class="primary" disabled={provision.busy}>
            Provision
          </button>
        </div>
      </form>
      {result ? <ProvisionResult {...result} /> : null}
    </section>
  );
}

function ProvisionResult({
  data,
  externalId,
  externalKey,
}: {
  data: Provisioned;
  externalId: string;
  externalKey: string;
}) {
  const things = data.things ?? [];
  const channels = data.channels ?? [];
  const command = (key: string) =>
    `curl -s ${shellQuote(`${location.origin}/things/bootstrap/${encodeURIComponent(externalId)}`)} -H ${shellQuote(`Authorization: ${key}`)}`;
  return (
    <section class="panel result" aria-labelledby="result-title">
      <h2 id="result-title">Provisioned {externalId}</h2>
      <h3>Things</h3>
      <div class="table-wrap">
        <table class="data">
          <caption class="visually-hidden">Things created</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">ID</th>
              <th scope="col">Key</th>
              <th scope="col">Metadata</th>
              <th scope="col">Whitelisted</th>
              <th scope="col">Certificate</th>
            </tr>
          </thead>
          <tbody>
            {things.map((t) => {
              const cert = data.client_cert?.[t.id];
              const key = data.client_key?.[t.id];
              const base = (t.name || t.id).replace(/[^A-Za-z0-9._-]+/g, '_');
              return (
                <tr key={t.id}>
                  <td data-label="Name">
                    <a href={`#/things/${t.id}`}>{t.name || <em>unnamed</em>}</a>
                  </td>
                  <td data-label="ID">
                    <code class="id">{t.id}</code>
                  </td>
                  <td data-label="Key">
                    {t.key ? <Secret value={t.key} label={`Key of ${t.name || t.id}`} /> : '—'}
                  </td>
                  <td data-label="Metadata">
                    <MetadataView metadata={t.metadata} />
                  </td>
                  <td data-label="Whitelisted">
                    {data.whitelisted ? (
                      data.whitelisted[t.id] ? (
                        <span class="badge on">yes</span>
                      ) : (
                        <span class="badge off">no</span>
                      )
                    ) : (
                      <span class="muted">off</span>
                    )}
                  </td>
                  <td data-label="Certificate">
                    {cert ? (
                      <span class="actions left">
                        <button
                          type="button"
                          class="small"
                          onClick={() => download(`${base}-cert.pem`, cert)}
                        >
                          Certificate
                        </button>
                        {key ? (
                          <button
                            type="button"
                            class="small"
                            onClick={() => download(`${base}-key.pem`, key)}
                          >
                            Private key
                          </button>
                        ) : null}
                      </span>
                    ) : (
                      <span class="muted">none</span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {data.ca_cert ? (
        <p>
          <button type="button" class="small" onClick={() => download('ca.pem', data.ca_cert!)}>
            Download CA certificate
          </button>
        </p>
      ) : null}
      <h3>Channels</h3>
      <ul class="plain">
        {channels.map((c) => (
          <li key={c.id}>
            <a href={`#/channels/${c.id}`}>{c.name || c.id}</a> <code class="id">{c.id}</code>{' '}
            <MetadataView metadata={c.metadata} />
          </li>
        ))}
      </ul>
      <h3>Bootstrap the gateway</h3>
      <p>The gateway fetches its configuration with this command (run it yourself to check):</p>
      <SecretCommand command={command} secret={externalKey} label="External key" />
    </section>
  );
}
