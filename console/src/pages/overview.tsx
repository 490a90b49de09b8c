import type { Thing } from '@tethys/sdk';
import { api } from '../api.ts';
import { MetadataView } from '../metadata.tsx';
import { href } from '../router.ts';
import { Busy, ErrorText, formatTime, useLoad } from '../ui.tsx';

/**
 * Counts come from list totals (limit=1), which the server keeps without scanning; so
 * does the gateway count (a metadata filter). Connections and certificates have no
 * list total in the API (they are listed per thing or channel), so they are not counted.
 */
function Count({
  label,
  link,
  load,
}: {
  label: string;
  link: string;
  load: (signal: AbortSignal) => Promise<number>;
}) {
  const { data, error, loading } = useLoad(load, []);
  return (
    <a class="count card" href={link}>
      <span class="count-label">{label}</span>
      <span class="count-value" aria-live="polite">
        {loading ? '…' : error ? '!' : (data ?? 0).toLocaleString()}
      </span>
      {error ? <ErrorText error={error} /> : null}
    </a>
  );
}

const GATEWAY = { type: 'gateway' };

/** Valid certificates that expire within 30 days, soonest first, linked to their things. */
function ExpiringCertificates() {
  const expiring = useLoad((signal) => api(signal).certs.expiring('720h', { offset: 0, limit: 5 }), []);
  return (
    <>
      <h2>Certificates expiring within 30 days</h2>
      {expiring.loading ? <Busy label="Loading expiring certificates…" /> : null}
      <ErrorText error={expiring.error} prefix="Could not load the expiring certificates" />
      {expiring.data ? (
        expiring.data.total === 0 ? (
          <p>No certificate expires within 30 days.</p>
        ) : (
          <>
            <p class="muted small-text">
              {expiring.data.total.toLocaleString()} in all; the five that expire first are shown. Renew one
              from its thing's page, or all of them with <code>tethys certs renew --expiring 720h</code>.
            </p>
            <ul class="expiring">
              {expiring.data.certs.map((c) => (
                <li key={c.cert_serial}>
                  <a href={`#/things/${c.thing_id}`}>
                    <code class="id">{c.thing_id}</code>
                  </a>{' '}
                  expires {formatTime(c.expire)}
                </li>
              ))}
            </ul>
          </>
        )
      ) : null}
    </>
  );
}

export function OverviewPage() {
  const gateways = useLoad(
    (signal) => api(signal).things.list({ offset: 0, limit: 5, metadata: GATEWAY }),
    [],
  );
  return (
    <section>
      <h1>Overview</h1>
      <div class="counts">
        <Count
          label="Things"
          link="#/things"
          load={(signal) =>
            api(signal)
              .things.list({ offset: 0, limit: 1 })
              .then((p) => p.total)
          }
        />
        <Count
          label="Channels"
          link="#/channels"
          load={(signal) =>
            api(signal)
              .channels.list({ offset: 0, limit: 1 })
              .then((p) => p.total)
          }
        />
        <Count
          label="Gateways"
          link={href('/things', { meta: 'type=gateway' })}
          load={(signal) =>
            api(signal)
              .things.list({ offset: 0, limit: 1, metadata: GATEWAY })
              .then((p) => p.total)
          }
        />
        <Count
          label="Bootstrap configs"
          link="#/bootstrap"
          load={(signal) =>
            api(signal)
              .bootstrap.list({ offset: 0, limit: 1 })
              .then((p) => p.total)
          }
        />
        <Count
          label="Active configs"
          link={href('/bootstrap', { state: '1' })}
          load={(signal) =>
            api(signal)
              .bootstrap.list({ offset: 0, limit: 1, state: 1 })
              .then((p) => p.total)
          }
        />
      </div>
      <p class="muted small-text">A thing's or a channel's page shows its connections.</p>

      <ExpiringCertificates />

      <h2>Gateways</h2>
      <p class="muted small-text">
        Gateways made by <a href="#/provision">provisioning</a>. Five are shown, not necessarily the newest
        (Tethys does not record when things were created):{' '}
        <a href={href('/things', { meta: 'type=gateway' })}>see them all</a>.
      </p>
      {gateways.loading ? <Busy label="Loading gateways…" /> : null}
      <ErrorText error={gateways.error} prefix="Could not load the gateways" />
      {gateways.data ? (
        gateways.data.things.length === 0 ? (
          <p>
            No gateway yet. <a href="#/provision">Provision one</a>.
          </p>
        ) : (
          <ul class="gateways">
            {gateways.data.things.map((t: Thing) => (
              <li key={t.id} class="card">
                <a href={`#/things/${t.id}`}>{t.name || <em>unnamed</em>}</a>
                <code class="id">{t.id}</code>
                <MetadataView metadata={t.metadata} />
              </li>
            ))}
          </ul>
        )
      ) : null}
    </section>
  );
}
