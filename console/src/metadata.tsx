import { api, orMissing } from './api.ts';
import { href } from './router.ts';
import { Busy, ErrorText, Secret, useLoad } from './ui.tsx';

/**
 * How a thing's metadata is shown. Provisioning (POST /mapping) writes a gateway's
 * links into its metadata as Mainflux 0.12.1 does: its external id and key, the thing
 * that holds its bootstrap config (cfg_id) and its control, data and export channels.
 * The metadata stays as stored; the console shows those fields as the gateway's
 * channels and config, linked, and its external key masked. Other metadata is shown as
 * JSON.
 */

const GATEWAY_FIELDS = [
  'type',
  'external_id',
  'external_key',
  'cfg_id',
  'ctrl_channel_id',
  'data_channel_id',
  'export_channel_id',
] as const;

const CHANNEL_ROLES = [
  ['ctrl_channel_id', 'Control channel'],
  ['data_channel_id', 'Data channel'],
  ['export_channel_id', 'Export channel'],
] as const;

export interface Gateway {
  externalId: string;
  externalKey: string;
  /** The thing whose bootstrap config is the gateway's ('' when not recorded). */
  configThing: string;
  /** The gateway's channels by role; empty ids (no export channel, say) are left out. */
  channels: { role: string; id: string }[];
  /** The rest of the metadata. */
  rest: Record<string, unknown>;
}

const text = (v: unknown) => (typeof v === 'string' ? v : '');

/** The gateway a thing's metadata describes, or null for any other thing. */
export function gatewayOf(metadata?: Record<string, unknown> | null): Gateway | null {
  if (metadata?.type !== 'gateway') return null;
  if (!GATEWAY_FIELDS.some((f) => f !== 'type' && f in metadata)) return null;
  const rest = Object.fromEntries(
    Object.entries(metadata).filter(([k]) => !(GATEWAY_FIELDS as readonly string[]).includes(k)),
  );
  return {
    externalId: text(metadata.external_id),
    externalKey: text(metadata.external_key),
    configThing: text(metadata.cfg_id),
    channels: CHANNEL_ROLES.flatMap(([field, role]) =>
      text(metadata[field]) ? [{ role, id: text(metadata[field]) }] : [],
    ),
    rest,
  };
}

/** Where a gateway's bootstrap config is managed. */
function configLink(g: Gateway): string {
  return g.externalId ? href('/bootstrap', { external_id: g.externalId }) : `#/things/${g.configThing}`;
}

/** Metadata in a list's cell: a one-line JSON summary, or a gateway's links. */
export function MetadataView({ metadata }: { metadata?: Record<string, unknown> | null }) {
  const gateway = gatewayOf(metadata);
  if (gateway) {
    return (
      <span class="gateway-summary">
        <span class="badge">gateway</span>
        {gateway.channels.map((c) => (
          <a key={c.role} href={`#/channels/${c.id}`}>
            {c.role.toLowerCase()}
          </a>
        ))}
        {gateway.externalId || gateway.configThing ? (
          <a href={configLink(gateway)}>bootstrap config</a>
        ) : null}
        {Object.keys(gateway.rest).length ? <JsonSummary value={gateway.rest} /> : null}
      </span>
    );
  }
  if (!metadata || Object.keys(metadata).length === 0) return <span class="muted">—</span>;
  return <JsonSummary value={metadata} />;
}

function JsonSummary({ value }: { value: Record<string, unknown> }) {
  const json = JSON.stringify(value);
  return (
    <code class="metadata" title={json}>
      {json.length > 120 ? `${json.slice(0, 117)}…` : json}
    </code>
  );
}

/** Metadata on a thing's or channel's own page: JSON, or for a gateway its channels, config and key. */
export function MetadataFacts({ metadata }: { metadata?: Record<string, unknown> | null }) {
  const gateway = gatewayOf(metadata);
  if (!gateway) {
    return metadata && Object.keys(metadata).length ? (
      <pre class="json">{JSON.stringify(metadata, null, 2)}</pre>
    ) : (
      <span class="muted">—</span>
    );
  }
  return (
    <dl class="facts gateway-facts">
      <dt>Role</dt>
      <dd>
        <span class="badge">gateway</span> (provisioned)
      </dd>
      {gateway.externalId ? (
        <>
          <dt>External id</dt>
          <dd>
            <code>{gateway.externalId}</code>
          </dd>
        </>
      ) : null}
      {gateway.externalKey ? (
        <>
          <dt>External key</dt>
          <dd>
            <Secret value={gateway.externalKey} label="External key" />
          </dd>
        </>
      ) : null}
      {gateway.externalId || gateway.configThing ? (
        <>
          <dt>Bootstrap config</dt>
          <dd>
            <a href={configLink(gateway)}>
              {gateway.externalId ? `The config of ${gateway.externalId}` : 'Its config'}
            </a>
          </dd>
        </>
      ) : null}
      {gateway.channels.map((c) => (
        <ChannelFact key={c.role} role={c.role} id={c.id} />
      ))}
      {Object.keys(gateway.rest).length ? (
        <>
          <dt>Other metadata</dt>
          <dd>
            <pre class="json">{JSON.stringify(gateway.rest, null, 2)}</pre>
          </dd>
        </>
      ) : null}
    </dl>
  );
}

/** One of a gateway's channels, by name, linked (its id when it is gone or unnamed). */
function ChannelFact({ role, id }: { role: string; id: string }) {
  const channel = useLoad((signal) => orMissing(api(signal).channels.get(id)), [id]);
  return (
    <>
      <dt>{role}</dt>
      <dd>
        {channel.loading ? <Busy label="Loading the channel…" /> : null}
        <ErrorText error={channel.error} prefix="Could not load the channel" />
        {!channel.loading && !channel.error ? (
          channel.data ? (
            <a href={`#/channels/${id}`}>{channel.data.name || <code class="id">{id}</code>}</a>
          ) : (
            <span class="muted">deleted</span>
          )
        ) : null}
      </dd>
    </>
  );
}
