import fs from 'node:fs';
import { parse, stringify, TomlError } from 'smol-toml';
import { keySizeProblem, parseValidity } from '../certs/rules.js';
import type { Config } from '../config.js';
import { byteLength } from '../things/types.js';
import {
  BUILT_INS,
  MAX_STRING_VALUE,
  nestedRepetition,
  ofType,
  PLACEHOLDER,
  placeholdersIn,
  typeWords,
} from './parameters.js';

export interface LayoutEntity {
  name: string;
  metadata: Record<string, unknown>;
  /** The name holds a placeholder: it stays the layout's, the request's `name` does not replace it. */
  templated?: boolean;
}

/** `[parameters.<name>]`: a value a provisioning request (or an enrolling device) gives. */
export interface LayoutParameter {
  name: string;
  type: 'string' | 'integer' | 'boolean';
  required: boolean;
  /** Used when the request gives none; null: the type's zero value ("", 0, false). */
  default: string | number | boolean | null;
  /** Strings only: a JavaScript regular expression (unicode mode) the value must match. */
  pattern: string | null;
  /** A self-enrolling device may set it. */
  device: boolean;
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
  parameters: LayoutParameter[];
  /** The placeholders its names, metadata and content hold (declared parameters and built-ins). */
  placeholders: string[];
  /** The TOML it was read from, as users may see it (a file's [server] section left out). */
  toml: string;
  /** Where the layout came from, for the start-up log. */
  source: string;
}

export class LayoutError extends Error {}

/** How a layout's text is read. */
export interface LayoutReading {
  /** How messages name the text: the file's path, or `layout <name>`. */
  label: string;
  /**
   * A user's named layout: no [server] (the server's credentials), no section or key the
   * reader does not know, at least one thing and one channel, at most one gateway.
   */
  named: boolean;
}

/** One thing with an external id, a control and a data channel (CONFIG.md §6.4). */
export const BUILT_IN_TOML = `# The built-in layout (no MF_PROVISION_CONFIG_FILE): a gateway, its control and data channels.
[[things]]
name = "thing"
[things.metadata]
external_id = "xxxxxx"

[[channels]]
name = "control-channel"
[channels.metadata]
type = "control"

[[channels]]
name = "data-channel"
[channels.metadata]
type = "data"
`;

/** What a named layout may hold: top-level keys, and the keys of its tables. */
const NAMED_KEYS = {
  top: ['file', 'bootstrap', 'certs', 'things', 'channels', 'parameters'],
  bootstrap: ['provision', 'autowhite_list', 'x509_provision', 'content'],
  certs: ['days_valid', 'key_bits', 'keytype', 'keyType', 'KeyType'],
  entity: ['name', 'metadata'],
};
const PARAMETER_KEYS = ['type', 'required', 'default', 'pattern', 'device'];
const PARAMETER_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MAX_PATTERN = 512;
const HAS_PLACEHOLDER = new RegExp(PLACEHOLDER.source);

type Table = Record<string, unknown>;
const isTable = (v: unknown): v is Table =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const list = (words: string[]) => words.join(', ');

/** Lines of the text, to name where a problem is. */
class Lines {
  private readonly lines: string[];

  constructor(
    text: string,
    readonly label: string,
  ) {
    this.lines = text.split(/\r?\n/);
  }

  /** `<label> line N: message`, or `<label>: message` when no line is known. */
  error(line: number | undefined, message: string): LayoutError {
    return new LayoutError(line ? `${this.label} line ${line}: ${message}` : `${this.label}: ${message}`);
  }

  /** The first line from `from` to `to` (1-based, inclusive) that is no comment and matches. */
  find(pattern: RegExp, from = 1, to = this.lines.length): number | undefined {
    for (let i = from - 1; i < to; i++) {
      const line = this.lines[i]!;
      if (!/^\s*#/.test(line) && pattern.test(line)) return i + 1;
    }
    return undefined;
  }

  /** The line of the `index`-th `[name]` or `[[name]]` header. */
  header(name: string, index = 0): number | undefined {
    const dotted = name.split('.').map(literal).join('\\s*\\.\\s*');
    const pattern = new RegExp(`^\\s*\\[\\[?\\s*${dotted}\\s*\\]\\]?\\s*(#.*)?$`);
    let from = 1;
    for (let seen = 0; ; seen++) {
      const line = this.find(pattern, from);
      if (line === undefined || seen === index) return line;
      from = line + 1;
    }
  }

  /** Where a table starts: its header, else the line that assigns it (`name = {…}`, `name.key = …`). */
  table(name: string, index = 0): number | undefined {
    return (
      this.header(name, index) ?? this.find(new RegExp(`^\\s*${literal(name.split('.').pop()!)}\\s*[.=]`))
    );
  }

  /** Where a table's key is set: under the table's header, else the table's line. */
  key(name: string, key: string, index = 0): number | undefined {
    const header = this.header(name, index);
    if (header === undefined) return this.table(name, index);
    const end = (this.find(/^\s*\[/, header + 1) ?? this.lines.length + 1) - 1;
    return this.find(new RegExp(`^\\s*["']?${literal(key)}["']?\\s*=`), header + 1, end) ?? header;
  }
}

function entities(at: Lines, doc: Table, section: 'things' | 'channels', named: boolean) {
  const entries = doc[section];
  if (entries === undefined) return undefined;
  if (!Array.isArray(entries))
    throw at.error(at.table(section), `"${section}" must be an array of tables ([[${section}]])`);
  return entries.map((entry, i): LayoutEntity => {
    const fail = (message: string, key?: string) =>
      at.error(key ? at.key(section, key, i) : at.table(section, i), message);
    if (!isTable(entry)) throw fail(`[[${section}]] entry ${i + 1} must be a table`);
    if (entry.name !== undefined && typeof entry.name !== 'string')
      throw fail(`${section}[${i}].name must be a string`, 'name');
    if (typeof entry.name === 'string' && entry.name.length > 1024)
      throw fail(`${section}[${i}].name is longer than 1024 characters`, 'name');
    if (entry.metadata !== undefined && !isTable(entry.metadata))
      throw fail(`${section}[${i}].metadata must be a table`, 'metadata');
    if (named) {
      const unknown = Object.keys(entry).find((k) => !NAMED_KEYS.entity.includes(k));
      if (unknown !== undefined)
        throw fail(
          `[[${section}]] has no key "${unknown}" (a ${section.slice(0, -1)} has a name and metadata)`,
          unknown,
        );
    }
    const name = (entry.name as string) ?? '';
    return {
      name,
      metadata: toJson((entry.metadata as Table) ?? {}) as Record<string, unknown>,
      ...(HAS_PLACEHOLDER.test(name) ? { templated: true } : {}),
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

function bool(at: Lines, section: string, table: Table | undefined, key: string): boolean | undefined {
  const v = table?.[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw at.error(at.key(section, key), `${key} must be true or false`);
  return v;
}

function str(at: Lines, section: string, table: Table | undefined, key: string): string | undefined {
  const v = table?.[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw at.error(at.key(section, key), `${key} must be a string`);
  return v;
}

/** A named layout holds no [server] and nothing the reader would ignore. */
function checkNamed(at: Lines, doc: Table): void {
  if (doc.server !== undefined) {
    throw at.error(
      at.table('server'),
      "[server] holds the server's own settings and credentials: a named layout may not have it",
    );
  }
  for (const key of Object.keys(doc)) {
    if (!NAMED_KEYS.top.includes(key)) {
      throw at.error(
        at.table(key),
        `unknown section "${key}" (a layout has [bootstrap], [certs], [parameters.<name>], [[things]] and [[channels]])`,
      );
    }
  }
  for (const section of ['bootstrap', 'certs'] as const) {
    const table = doc[section];
    if (table === undefined) continue;
    if (!isTable(table)) throw at.error(at.table(section), `[${section}] must be a table`);
    const unknown = Object.keys(table).find((k) => !NAMED_KEYS[section].includes(k));
    if (unknown !== undefined)
      throw at.error(
        at.key(section, unknown),
        `[${section}] has no key "${unknown}" (it has ${list(NAMED_KEYS[section])})`,
      );
  }
}

/** `[parameters.<name>]` tables. */
function readParameters(at: Lines, value: unknown): LayoutParameter[] {
  if (value === undefined) return [];
  if (!isTable(value))
    throw at.error(at.table('parameters'), '"parameters" must be a table of tables ([parameters.<name>])');
  return Object.entries(value).map(([name, declaration]) => {
    const table = `parameters.${name}`;
    const fail = (message: string, key?: string) =>
      at.error(key ? at.key(table, key) : at.table(table), `[${table}] ${message}`);
    if (!PARAMETER_NAME.test(name))
      throw fail('a parameter name is a letter or _, then letters, digits or _ (at most 64)');
    if ((BUILT_INS as readonly string[]).includes(name))
      throw fail(`"${name}" is a built-in placeholder (${list([...BUILT_INS])}): it cannot be declared`);
    if (!isTable(declaration)) throw fail('must be a table (type, required, default, pattern, device)');
    const unknown = Object.keys(declaration).find((k) => !PARAMETER_KEYS.includes(k));
    if (unknown !== undefined)
      throw fail(`has no key "${unknown}" (it has ${list(PARAMETER_KEYS)})`, unknown);
    const type = declaration.type;
    if (type !== 'string' && type !== 'integer' && type !== 'boolean')
      throw fail('type must be "string", "integer" or "boolean"', 'type');
    const flag = (key: 'required' | 'device') => {
      const v = declaration[key] ?? false;
      if (typeof v !== 'boolean') throw fail(`${key} must be true or false`, key);
      return v;
    };
    const required = flag('required');
    const device = flag('device');
    const pattern = declaration.pattern ?? null;
    if (pattern !== null) {
      if (typeof pattern !== 'string') throw fail('pattern must be a string', 'pattern');
      if (type !== 'string') throw fail('pattern applies to string parameters only', 'pattern');
      if (pattern.length > MAX_PATTERN)
        throw fail(`pattern is longer than ${MAX_PATTERN} characters`, 'pattern');
      try {
        new RegExp(pattern, 'u');
      } catch (err) {
        throw fail(`pattern does not compile: ${(err as Error).message}`, 'pattern');
      }
      if (nestedRepetition(pattern)) {
        throw fail(
          'pattern repeats a group that holds a repetition, as (a+)+ does: matching it can take exponential time',
          'pattern',
        );
      }
    }
    const fallback = declaration.default ?? null;
    if (fallback !== null) {
      if (required) throw fail('a required parameter has no default', 'default');
      if (!ofType(type, fallback)) throw fail(`default must be ${typeWords(type)}`, 'default');
      if (typeof fallback === 'string') {
        if (byteLength(fallback) > MAX_STRING_VALUE)
          throw fail(`default is longer than ${MAX_STRING_VALUE} bytes`, 'default');
        if (pattern !== null && !new RegExp(pattern, 'u').test(fallback))
          throw fail(`default ${JSON.stringify(fallback)} does not match the pattern`, 'default');
      }
    }
    return { name, type, required, default: fallback, pattern, device };
  });
}

/** Every placeholder names a declared parameter or a built-in. */
function checkPlaceholders(
  at: Lines,
  layout: Pick<Layout, 'things' | 'channels' | 'content' | 'parameters'>,
) {
  const used = new Set<string>();
  for (const e of [...layout.things, ...layout.channels]) {
    placeholdersIn(e.name, used);
    placeholdersIn(e.metadata, used);
  }
  placeholdersIn(layout.content, used);
  const known = new Set<string>([...BUILT_INS, ...layout.parameters.map((p) => p.name)]);
  for (const name of used) {
    if (known.has(name)) continue;
    throw at.error(
      at.find(new RegExp(`\\{\\{\\s*${name}\\s*\\}\\}`)),
      `placeholder {{${name}}} names no parameter: declare [parameters.${name}], or use a built-in (${list([...BUILT_INS])})`,
    );
  }
  return [...used];
}

/**
 * A layout from its TOML text: the server's file, or a user's named layout (`reading`
 * says which, and how messages name it). The environment fills what the text leaves
 * empty, false or zero (CONFIG.md §6.3), for both. A problem is a LayoutError naming
 * the line.
 */
export function readLayout(text: string, config: Config['provision'], reading: LayoutReading): Layout {
  const at = new Lines(text, reading.label);
  let doc: Table;
  try {
    doc = parse(text) as Table;
  } catch (err) {
    if (err instanceof TomlError) {
      throw new LayoutError(
        `${reading.label} line ${err.line}, column ${err.column}: ${err.message.split('\n')[0]}`,
      );
    }
    throw new LayoutError(`${reading.label}: ${(err as Error).message}`);
  }
  if (reading.named) checkNamed(at, doc);
  const server = isTable(doc.server) ? doc.server : undefined;
  const bootstrap = isTable(doc.bootstrap) ? doc.bootstrap : undefined;
  const certs = isTable(doc.certs) ? doc.certs : undefined;
  // Mainflux's sample file says `content = ""`: no content, as far as a gateway can tell.
  if (bootstrap && bootstrap.content === '') delete bootstrap.content;
  if (bootstrap?.content !== undefined && !isTable(bootstrap.content)) {
    throw at.error(
      at.key('bootstrap', 'content'),
      `[bootstrap.content] must be a table, not ${typeof bootstrap.content}`,
    );
  }
  const things = entities(at, doc, 'things', reading.named) ?? [];
  const channels = entities(at, doc, 'channels', reading.named) ?? [];
  const fileContent = bootstrap?.content as Table | undefined;
  const content = fileContent
    ? (toJson(fileContent) as Record<string, unknown>)
    : config.bsContent
      ? JSON.parse(config.bsContent)
      : null;

  const keyType = (
    str(at, 'certs', certs, 'keytype') ??
    str(at, 'certs', certs, 'keyType') ??
    str(at, 'certs', certs, 'KeyType') ??
    'rsa'
  ).toLowerCase();
  const keyTypeLine = () =>
    at.key('certs', ['keytype', 'keyType', 'KeyType'].find((k) => certs?.[k] !== undefined) ?? 'keytype');
  if (keyType !== 'rsa' && keyType !== 'ec')
    throw at.error(keyTypeLine(), '[certs] keytype must be "rsa" or "ec"');
  const keyBitsValue = certs?.key_bits;
  if (keyBitsValue !== undefined && (typeof keyBitsValue !== 'number' || !Number.isInteger(keyBitsValue))) {
    throw at.error(at.key('certs', 'key_bits'), '[certs] key_bits must be an integer');
  }
  const keyBits = (keyBitsValue as number | undefined) || (keyType === 'ec' ? 256 : config.certsRsaBits);
  const sizeProblem = keySizeProblem(keyType, keyBits);
  if (sizeProblem)
    throw at.error(
      keyBitsValue === undefined ? keyTypeLine() : at.key('certs', 'key_bits'),
      `[certs] key_bits: ${sizeProblem}`,
    );
  const valid = str(at, 'certs', certs, 'days_valid') || config.certsHoursValid;
  if (parseValidity(valid) === null)
    throw at.error(
      at.key('certs', 'days_valid'),
      `[certs] days_valid "${valid}" is not a duration such as 2400h`,
    );

  const parameters = readParameters(at, doc.parameters);
  const placeholders = checkPlaceholders(at, { things, channels, content, parameters });
  if (reading.named) {
    if (things.length === 0) throw at.error(undefined, 'a layout needs at least one [[things]]');
    if (channels.length === 0) throw at.error(undefined, 'a layout needs at least one [[channels]]');
    const gateways = things.flatMap((t, i) => ('external_id' in t.metadata ? [i] : []));
    if (gateways.length > 1) {
      throw at.error(
        at.key('things', 'metadata', gateways[1]),
        'only one thing may carry external_id: it is the gateway, whose bootstrap config takes the external id of the request',
      );
    }
  }

  const layout: Layout = {
    things,
    channels,
    content,
    // `false` in the file is "empty": the environment may turn it on (CONFIG.md §6.3).
    bootstrapProvision:
      (bool(at, 'bootstrap', bootstrap, 'provision') ?? false) || config.bsConfigProvisioning,
    autoWhitelist: (bool(at, 'bootstrap', bootstrap, 'autowhite_list') ?? false) || config.bsAutoWhitelist,
    x509Provision: (bool(at, 'bootstrap', bootstrap, 'x509_provision') ?? false) || config.x509Provisioning,
    certs: {
      keyType,
      keyBits,
      valid,
    },
    credentials: {
      user: str(at, 'server', server, 'mf_user') || config.user,
      pass: str(at, 'server', server, 'mf_pass') || config.pass,
      apiKey: str(at, 'server', server, 'mf_api_key') || config.apiKey,
    },
    parameters,
    placeholders,
    // The server's credentials are not for every user to read.
    toml: doc.server === undefined ? text : withoutServer(doc),
    source: reading.label,
  };
  if (layout.autoWhitelist && !layout.bootstrapProvision) {
    throw at.error(at.key('bootstrap', 'provision'), "can't auto whitelist if auto config save is off");
  }
  return layout;
}

/** The file rewritten without its [server] section (its comments are lost with it). */
function withoutServer(doc: Table): string {
  const { server: _server, ...rest } = doc;
  return `# The server's layout file, its server settings and credentials left out.\n${stringify(rest)}\n`;
}

/**
 * The server's layout, `default`: the file when there is one (its values win; the
 * environment fills what it leaves empty, false or zero, CONFIG.md §6.3), else the
 * built-in layout. A file that was named but is missing, or that does not parse, is an
 * error naming the line.
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
  const layout = readLayout(text ?? BUILT_IN_TOML, config, { label: config.configFile, named: false });
  return text === null ? { ...layout, source: 'built-in layout' } : layout;
}
