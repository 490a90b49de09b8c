import type { Channel, Metadata, Thing } from '@tethys/sdk';
import { useState } from 'preact/hooks';
import { api, type EntityKind } from '../api.ts';
import { splitGateway } from '../metadata.tsx';
import { Dialog, ErrorText, Field, JsonEditor, objectValidator, parseJsonObject, useAction } from '../ui.tsx';

export const SINGULAR: Record<EntityKind, string> = { things: 'thing', channels: 'channel' };
export const TITLE: Record<EntityKind, string> = { things: 'Things', channels: 'Channels' };

function metadataText(metadata?: Metadata): string {
  return metadata && Object.keys(metadata).length ? JSON.stringify(metadata, null, 2) : '';
}

/** Create (no entity) or edit (name and metadata; the API replaces both). */
export function EntityForm({
  kind,
  entity,
  onClose,
  onSaved,
}: {
  kind: EntityKind;
  entity?: Thing | Channel;
  onClose: () => void;
  onSaved: (id: string, name: string) => void;
}) {
  const [name, setName] = useState(entity?.name ?? '');
  const [key, setKey] = useState('');
  // A gateway's own fields (its channels, config and external key) are not edited here: they are kept.
  const gateway = splitGateway(entity?.metadata);
  const [metadata, setMetadata] = useState(metadataText(gateway ? gateway.rest : entity?.metadata));
  const invalid = objectValidator(metadata);
  const save = useAction(async () => {
    const parsed = parseJsonObject(metadata);
    if (parsed.error) throw new Error(`Metadata is not valid JSON: ${parsed.error}`);
    const body = { name, metadata: gateway ? { ...gateway.kept, ...parsed.value } : parsed.value };
    if (entity) {
      await api()[kind].update(entity.id, body);
      onSaved(entity.id, name);
    } else {
      const id = await api()[kind].create({ ...body, ...(kind === 'things' && key ? { key } : {}) });
      onSaved(id, name);
    }
  });
  const what = SINGULAR[kind];
  return (
    <Dialog title={entity ? `Edit ${what}` : `New ${what}`} onClose={onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!invalid) save.run();
        }}
      >
        <Field label="Name">
          {(id) => (
            <input
              id={id}
              value={name}
              maxLength={1024}
              onInput={(e) => setName((e.target as HTMLInputElement).value)}
            />
          )}
        </Field>
        {kind === 'things' && !entity ? (
          <Field
            label="Key (optional)"
            hint="Leave empty for a random key. Keys are unique across all accounts."
          >
            {(id, hint) => (
              <input
                id={id}
                value={key}
                autocomplete="off"
                aria-describedby={hint}
                onInput={(e) => setKey((e.target as HTMLInputElement).value)}
              />
            )}
          </Field>
        ) : null}
        <JsonEditor
          label="Metadata (JSON object)"
          value={metadata}
          onInput={setMetadata}
          validate={objectValidator}
          hint='A JSON object, e.g. {"room": "lab"}; empty for none.'
        />
        {gateway ? (
          <p class="muted small-text">
            The gateway's channels, bootstrap config and external key are kept as they are.
          </p>
        ) : null}
        {entity ? <p class="muted small-text">Saving replaces both the name and the metadata.</p> : null}
        <ErrorText error={save.error} />
        <div class="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={save.busy || Boolean(invalid)}>
            {save.busy ? 'Saving…' : entity ? 'Save' : `Create ${what}`}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/**
 * The metadata filter as typed: `key=value` pairs separated by commas (values are
 * strings), `key:=json` for a number, boolean or object value, or a whole JSON object.
 */
export function parseMetadataFilter(text: string): { value: Metadata | null; error?: string } {
  const t = text.trim();
  if (!t) return { value: null };
  if (t.startsWith('{')) {
    const parsed = parseJsonObject(t);
    return parsed.error
      ? { value: null, error: `not a JSON object: ${parsed.error}` }
      : { value: parsed.value ?? null };
  }
  const out: Metadata = {};
  for (const part of t.split(',')) {
    const p = part.trim();
    if (!p) continue;
    const json = p.indexOf(':=');
    const eq = p.indexOf('=');
    if (json > 0 && json < eq) {
      const key = p.slice(0, json).trim();
      try {
        out[key] = JSON.parse(p.slice(json + 2).trim());
      } catch {
        return { value: null, error: `the value of ${key} after := is not JSON` };
      }
    } else if (eq > 0) {
      out[p.slice(0, eq).trim()] = p.slice(eq + 1).trim();
    } else {
      return { value: null, error: `"${p}" is not key=value` };
    }
  }
  return { value: out };
}

/** A certificate's key and validity, as POST /certs and an enrollment group's setting take them. */
export interface KeySetting {
  keyType: string;
  bits: number;
  valid: string;
}

const BITS: Record<string, number[]> = { rsa: [2048, 3072, 4096], ec: [256, 384] };

export function KeySettingFields({
  value,
  onChange,
  validHint,
}: {
  value: KeySetting;
  onChange: (value: KeySetting) => void;
  validHint: string;
}) {
  return (
    <>
      <Field label="Key type">
        {(id) => (
          <select
            id={id}
            value={value.keyType}
            onChange={(e) => {
              const keyType = (e.target as HTMLSelectElement).value;
              onChange({ ...value, keyType, bits: BITS[keyType]![0]! });
            }}
          >
            <option value="rsa">RSA</option>
            <option value="ec">EC (ECDSA)</option>
          </select>
        )}
      </Field>
      <Field label="Key size (bits)">
        {(id) => (
          <select
            id={id}
            value={value.bits}
            onChange={(e) => onChange({ ...value, bits: Number((e.target as HTMLSelectElement).value) })}
          >
            {BITS[value.keyType]!.map((b) => (
              <option key={b} value={b}>
                {b}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Valid for" hint={validHint}>
        {(id, hint) => (
          <input
            id={id}
            value={value.valid}
            aria-describedby={hint}
            onInput={(e) => onChange({ ...value, valid: (e.target as HTMLInputElement).value })}
          />
        )}
      </Field>
    </>
  );
}
