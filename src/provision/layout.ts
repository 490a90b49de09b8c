import fs from 'node:fs';
import { parse, TomlError } from 'smol-toml';
import { keySizeProblem, parseValidity } from '../certs/rules.js';
import type { Config } from '../config.js';

export interface LayoutEntity {
  name: string;
  metadata: Record<string, unknown>;
}

/** What /mapping creates, and how (CONFIG.md §6). */
export interface Layout {
  things: LayoutEntity[];
  channels: LayoutEntity[];
  /** `[bootstrap.content]`, stored as JSON text in every created config (null when absent). */
  content: Record<string, unknown> | null;
  bootstrapProvision: boolean;
  autoWhitelist: boolean;
  x509Provision: boolean;
  certs: { keyType: 'rsa' | 'ec'; keyBits: number; valid: string };
  credentials: { user: string; pass: string; apiKey: string };
  /** Where the layout came from, for the start-up log. */
  source: string;
}

export class LayoutError extends Error {}

/** One thing with an external id, a control and a data channel (CONFIG.md §6.4). */
const BUILT_IN = {
  things: [{ name: 'thing', metadata: { external_id: 'xxxxxx' } }],
  channels: [
    { name: 'control-channel', metadata: { type: 'control' } },
    { name: 'data-channel', metadata: { type: 'data' } },
  ],
};

type Table = Record<string, unknown>;
const isTable = (v: unknown): v is Table =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

/** The line of the n-th `[[section]]` header and, below it, of `key =`, for messages. */
function lineOf(text: string, section: string, index: number, key?: string): number {
  const lines = text.split('\n');
  let seen = -1;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim().startsWith(`[[${section}]]`)) {
      seen++;
      if (seen !== index) continue;
      if (!key) return i + 1;
      for (let j = i + 1; j < lines.length && !lines[j]!.trim().startsWith('[['); j++) {
        if (new RegExp(`^\\s*${key}\\s*=`).test(lines[j]!)) return j + 1;
      }
      return i + 1;
    }
  }
  return 1;
}

function entities(
  text: string,
  file: string,
  doc: Table,
  section: 'things' | 'channels',
): LayoutEntity[] | undefined {
  const list = doc[section];
  if (list === undefined) return undefined;
  if (!Array.isArray(list))
    throw new LayoutError(`${file}: "${section}" must be an array of tables ([[${section}]])`);
  return list.map((entry, i) => {
    const at = (key?: string) => `${file} line ${lineOf(text, section, i, key)}`;
    if (!isTable(entry)) throw new LayoutError(`${at()}: [[${section}]] entry ${i + 1} must be a table`);
    if (entry.name !== undefined && typeof entry.name !== 'string')
      throw new LayoutError(`${at('name')}: ${section}[${i}].name must be a string`);
    if (typeof entry.name === 'string' && entry.name.length > 1024)
      throw new LayoutError(`${at('name')}: ${section}[${i}].name is longer than 1024 characters`);
    if (entry.metadata !== undefined && !isTable(entry.metadata))
      throw new LayoutError(`${at('metadata')}: ${section}[${i}].metadata must be a table`);
    return {
      name: (entry.name as string) ?? '',
      metadata: toJson((entry.metadata as Table) ?? {}) as Record<string, unknown>,
    };
  });
}

/** TOML values as JSON values (dates become their ISO text). */
function toJson(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toJson);
  if (isTable(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]));
  return value;
}

function bool(file: string, table: Table | undefined, key: string): boolean | undefined {
  const v = table?.[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new LayoutError(`${file}: ${key} must be true or false`);
  return v;
}

function str(file: string, table: Table | undefined, key: string): string | undefined {
  const v = table?.[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new LayoutError(`${file}: ${key} must be a string`);
  return v;
}

/**
 * The layout: the file when there is one (its values win; the environment fills what
 * it leaves empty, false or zero, CONFIG.md §6.3), else the built-in layout. A file
 * that was named but is missing, or that does not parse, is an error naming the line.
 */
export function loadLayout(config: Config['provision']): Layout {
  let text: string | null = null;
  try {
    text = fs.readFileSync(config.configFile, 'utf8');
  } catch (err) {
    if (config.configFileExplicit) {
      throw new LayoutError(
        `MF_PROVISION_CONFIG_FILE: cannot read ${config.configFile}: ${(err as Error).message}`,
      );
    }
  }
  const file = config.configFile;
  let doc: Table = {};
  if (text !== null) {
    try {
      doc = parse(text) as Table;
    } catch (err) {
      if (err instanceof TomlError) {
        throw new LayoutError(
          `${file} line ${err.line}, column ${err.column}: ${err.message.split('\n')[0]}`,
        );
      }
      throw new LayoutError(`${file}: ${(err as Error).message}`);
    }
  }
  const server = isTable(doc.server) ? doc.server : undefined;
  const bootstrap = isTable(doc.bootstrap) ? doc.bootstrap : undefined;
  const certs = isTable(doc.certs) ? doc.certs : undefined;
  // Mainflux's sample file says `content = ""`: no content, as far as a gateway can tell.
  if (bootstrap && bootstrap.content === '') delete bootstrap.content;
  if (bootstrap?.content !== undefined && !isTable(bootstrap.content)) {
    throw new LayoutError(`${file}: [bootstrap.content] must be a table, not ${typeof bootstrap.content}`);
  }
  const things = text === null ? BUILT_IN.things : (entities(text, file, doc, 'things') ?? []);
  const channels = text === null ? BUILT_IN.channels : (entities(text, file, doc, 'channels') ?? []);
  const fileContent = bootstrap?.content as Table | undefined;
  const content = fileContent
    ? (toJson(fileContent) as Record<string, unknown>)
    : config.bsContent
      ? JSON.parse(config.bsContent)
      : null;

  const keyType = (
    str(file, certs, 'keytype') ??
    str(file, certs, 'keyType') ??
    str(file, certs, 'KeyType') ??
    'rsa'
  ).toLowerCase();
  if (keyType !== 'rsa' && keyType !== 'ec')
    throw new LayoutError(`${file}: [certs] keytype must be "rsa" or "ec"`);
  const keyBitsValue = certs?.key_bits;
  if (keyBitsValue !== undefined && (typeof keyBitsValue !== 'number' || !Number.isInteger(keyBitsValue))) {
    throw new LayoutError(`${file}: [certs] key_bits must be an integer`);
  }
  const keyBits = (keyBitsValue as number | undefined) || (keyType === 'ec' ? 256 : config.certsRsaBits);
  const sizeProblem = keySizeProblem(keyType, keyBits);
  if (sizeProblem) throw new LayoutError(`${file}: [certs] key_bits: ${sizeProblem}`);
  const valid = str(file, certs, 'days_valid') || config.certsHoursValid;
  if (parseValidity(valid) === null)
    throw new LayoutError(`${file}: [certs] days_valid "${valid}" is not a duration such as 2400h`);

  const layout: Layout = {
    things,
    channels,
    content,
    // `false` in the file is "empty": the environment may turn it on (CONFIG.md §6.3).
    bootstrapProvision: (bool(file, bootstrap, 'provision') ?? false) || config.bsConfigProvisioning,
    autoWhitelist: (bool(file, bootstrap, 'autowhite_list') ?? false) || config.bsAutoWhitelist,
    x509Provision: (bool(file, bootstrap, 'x509_provision') ?? false) || config.x509Provisioning,
    certs: {
      keyType,
      keyBits,
      valid,
    },
    credentials: {
      user: str(file, server, 'mf_user') || config.user,
      pass: str(file, server, 'mf_pass') || config.pass,
      apiKey: str(file, server, 'mf_api_key') || config.apiKey,
    },
    source: text === null ? 'built-in layout' : file,
  };
  if (layout.autoWhitelist && !layout.bootstrapProvision) {
    throw new LayoutError(`${file}: can't auto whitelist if auto config save is off`);
  }
  return layout;
}
