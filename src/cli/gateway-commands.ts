import path from 'node:path';
import { Argument, type Command, InvalidArgumentError, Option } from 'commander';
import { BootstrapCipher, type NewConfig, type Tethys } from '../../sdk/src/index.js';
import { parseGoDuration } from '../durations.js';
import { leaf } from './commands.js';
import { fileStem, pemFile, prepareOutDir, readPem, writeOut } from './files.js';
import { type ParamArg, parameterValues, paramOption } from './layout-commands.js';
import { renewCommand } from './renew-command.js';
import { handler, idListArg, jsonObjectArg, positiveIntArg, printJson, UsageError, uintArg } from './run.js';

/**
 * Gateway set-up from the command line: `provision` (POST /mapping), `bootstrap` (the
 * configs a gateway fetches, and the fetch itself: plain, AES-CFB encrypted or sealed) and
 * `certs` (client certificates for things, and the CRL). Same conventions as the other
 * client commands: JSON on stdout, `error: ...` and exit 1 when a request fails, exit 2
 * with nothing sent when the command line is wrong.
 */
export function gatewayCommands(program: Command): void {
  provisionCommand(program);
  bootstrapCommands(program);
  certsCommands(program);
}

// ---------------------------------------------------------------------------------------
// provision

function provisionCommand(program: Command): void {
  leaf(
    program,
    'provision',
    "provision a gateway from the server's layout (POST /mapping): things, channels, bootstrap config, connections, certificates; prints the result",
  )
    .argument('<external_id>', 'the gateway’s external id (e.g. its MAC address)')
    .argument('<external_key>', 'the secret the gateway fetches its config with')
    .option('--name <name>', 'name of the things made (default: the layout’s names)')
    .option('--layout <name>', 'a named layout of yours (see `tethys layouts`), or default')
    .addOption(paramOption())
    .option(
      '--out <dir>',
      'write each thing’s certificate and key (<thing id>.crt, <thing id>.key, 0600) and ca.crt there; the printed result then leaves the keys out',
    )
    .addHelpText(
      'after',
      `
Without --token (or TETHYS_TOKEN) no Authorization is sent: the server provisions with its
configured credentials (MF_PROVISION_API_KEY, or MF_PROVISION_USER and MF_PROVISION_PASS).

--param site=plant-a --param floor=3: with a token, each value is sent as the layout
declares it (floor as the integer 3); without one, as text (floor:=3 sends the number).`,
    )
    .action(
      handler<[string, string]>(false, async (api, [externalId, externalKey], o) => {
        const out = o.out === undefined ? undefined : prepareOutDir(o.out);
        // 0.12.1's 201 with {"error": ...} when the flow fails half-way (API.md §5) throws too.
        const params = (o.param ?? []) as ParamArg[];
        const parameters =
          params.length > 0
            ? await parameterValues(api, params, o.layout, Boolean(o.token?.trim()))
            : undefined;
        const result = await api.provision(externalId, externalKey, {
          name: o.name,
          layout: o.layout,
          parameters,
        });
        if (!out) {
          printJson(result);
          return;
        }
        const certs = result.client_cert ?? {};
        const keys = result.client_key ?? {};
        for (const [thingId, cert] of Object.entries(certs)) {
          const stem = fileStem(thingId);
          writeOut(path.join(out, `${stem}.crt`), pemFile(cert));
          if (keys[thingId]) writeOut(path.join(out, `${stem}.key`), pemFile(keys[thingId]), true);
        }
        if (result.ca_cert) writeOut(path.join(out, 'ca.crt'), pemFile(result.ca_cert));
        if (Object.keys(certs).length === 0) {
          process.stderr.write(
            `note: the server issued no certificates (MF_PROVISION_X509_PROVISIONING is off), nothing written to ${out}\n`,
          );
        }
        const { client_key: _keys, ...shown } = result;
        printJson(shown);
      }),
    );
}

// ---------------------------------------------------------------------------------------
// bootstrap

const CONFIG_FIELDS = [
  'external_id',
  'external_key',
  'thing_id',
  'channels',
  'name',
  'content',
  'client_cert',
  'client_key',
  'ca_cert',
] as const;

/**
 * A config body from the command line, checked before anything is sent. `content` may be
 * given as a JSON object: it is sent as its JSON text (the Agent parses the string).
 */
function configBody(
  value: string,
  allowed: readonly string[],
  required: readonly string[],
): Record<string, unknown> {
  const input = jsonObjectArg(value);
  const body: Record<string, unknown> = {};
  for (const [field, v] of Object.entries(input)) {
    if (!allowed.includes(field)) {
      throw new InvalidArgumentError(`Unknown field "${field}" (a config has ${allowed.join(', ')}).`);
    }
    if (v === null) continue;
    if (field === 'channels') {
      if (!Array.isArray(v) || v.some((c) => typeof c !== 'string' || c === '')) {
        throw new InvalidArgumentError('"channels" must be an array of channel ids.');
      }
      body.channels = v;
    } else if (field === 'content' && typeof v === 'object') {
      body.content = JSON.stringify(v);
    } else if (typeof v !== 'string') {
      throw new InvalidArgumentError(
        `"${field}" must be a string${field === 'content' ? ' or a JSON object' : ''}.`,
      );
    } else {
      body[field] = v;
    }
  }
  for (const field of required) {
    if (typeof body[field] !== 'string' || body[field] === '') {
      throw new InvalidArgumentError(`"${field}" is required.`);
    }
  }
  return body;
}

/** MF_BOOTSTRAP_ENCRYPT_KEY: 32, 48 or 64 hex digits (AES-128/192/256). */
function encryptKeyArg(value: string): BootstrapCipher | undefined {
  if (value === '') return undefined; // an empty TETHYS_BOOTSTRAP_ENCRYPT_KEY is no key
  try {
    return new BootstrapCipher(value);
  } catch {
    throw new InvalidArgumentError(
      "Expected 32, 48 or 64 hex digits, the server's MF_BOOTSTRAP_ENCRYPT_KEY.",
    );
  }
}

function bootstrapCommands(program: Command): void {
  const group = program
    .command('bootstrap')
    .description('bootstrap configs: what a gateway receives when it fetches its config');
  const view = async (api: Tethys, id: string) => printJson(await api.bootstrap.get(id));

  leaf(
    group,
    'create',
    'add a config (POST /things/configs; makes a thing unless thing_id is given); prints it',
  )
    .addArgument(
      new Argument(
        '<json>',
        `the config: ${CONFIG_FIELDS.join(', ')}; external_id and external_key required, channels an array of ids`,
      ).argParser((v) => configBody(v, CONFIG_FIELDS, ['external_id', 'external_key'])),
    )
    .addHelpText(
      'after',
      `
"content" is what the gateway receives; the Mainflux Agent expects a JSON text, so a JSON
object given here is sent as its text. The config starts inactive: see \`bootstrap whitelist\`.

Example:
  tethys bootstrap create '{"external_id":"aa:bb:cc","external_key":"s3cret","name":"gw",
    "channels":["<channel id>"],"content":{"agent":{"log":{"level":"info"}}}}'`,
    )
    .action(
      handler<[Record<string, unknown>]>(true, async (api, [body]) => {
        const id = await api.bootstrap.create(body as NewConfig);
        await view(api, id);
      }),
    );

  leaf(group, 'get', 'show a config (GET /things/configs/{id}; the id is its thing id)')
    .argument('<id>')
    .action(
      handler<[string]>(true, async (api, [id]) => {
        await view(api, id);
      }),
    );

  leaf(group, 'list', 'list your configs (GET /things/configs), by thing id')
    .addOption(new Option('--offset <n>', 'skip this many').argParser(uintArg))
    .addOption(
      new Option('--limit <n>', 'at most this many, up to 100 (server default 10)').argParser(uintArg),
    )
    .addOption(new Option('--state <state>', '0 inactive, 1 active (whitelisted)').choices(['0', '1']))
    .option('--external-id <id>', 'this external id only')
    .option('--name <text>', 'name contains (case-insensitive)')
    .action(
      handler<[]>(true, async (api, _args, o) => {
        const query = {
          offset: o.offset,
          limit: o.limit,
          state: o.state === undefined ? undefined : (Number(o.state) as 0 | 1),
          external_id: o.externalId,
          name: o.name,
        };
        printJson(await api.bootstrap.list(query));
      }),
    );

  leaf(
    group,
    'update',
    "replace a config's name and content (PUT /things/configs/{id}; an omitted field is cleared); prints it",
  )
    .argument('<id>')
    .addArgument(
      new Argument('<json>', 'new name and content, e.g. \'{"name":"gw","content":"{}"}\'').argParser((v) =>
        configBody(v, ['name', 'content'], []),
      ),
    )
    .action(
      handler<[string, Record<string, unknown>]>(true, async (api, [id, body]) => {
        await api.bootstrap.update(id, body);
        await view(api, id);
      }),
    );

  leaf(
    group,
    'connections',
    "replace a config's channels (PUT /things/configs/connections/{id}; an active config's thing follows); prints it",
  )
    .argument('<id>')
    .addArgument(new Argument('<channelIds>', 'channel ids, comma-separated').argParser(idListArg))
    .action(
      handler<[string, string[]]>(true, async (api, [id, channels]) => {
        await api.bootstrap.setChannels(id, channels);
        await view(api, id);
      }),
    );

  leaf(
    group,
    'whitelist',
    'activate a config: connect its thing to its channels (PUT /things/state/{id} {"state":1}); prints it',
  )
    .argument('<id>')
    .option('--off', 'deactivate instead (state 0): disconnect the thing from the config channels')
    .action(
      handler<[string]>(true, async (api, [id], o) => {
        await api.bootstrap.setState(id, o.off ? 0 : 1);
        await view(api, id);
      }),
    );

  leaf(group, 'remove', 'remove a config (DELETE /things/configs/{id}; the thing and its connections stay)')
    .argument('<id>')
    .action(
      handler<[string]>(true, async (api, [id]) => {
        await api.bootstrap.remove(id);
      }),
    );

  leaf(
    group,
    'fetch',
    'fetch a config as the gateway does (GET /things/bootstrap/{external_id}, Authorization: the external key; no token)',
    false,
  )
    .argument('<external_id>')
    .argument('<external_key>')
    .option('--secure', 'use the encrypted exchange (GET /things/bootstrap/secure/{external_id}, AES-CFB)')
    .addOption(
      new Option(
        '--sealed',
        'use the sealed exchange (GET /things/bootstrap/sealed/{external_id}, AES-256-GCM under a key derived from the external key; no server key needed)',
      ).conflicts('secure'),
    )
    .addOption(
      new Option(
        '--encrypt-key <hex>',
        "the server's MF_BOOTSTRAP_ENCRYPT_KEY (32, 48 or 64 hex digits), for --secure",
      )
        .env('TETHYS_BOOTSTRAP_ENCRYPT_KEY')
        .argParser(encryptKeyArg),
    )
    .action(
      handler<[string, string]>(false, async (api, [externalId, externalKey], o) => {
        // The external key is the credential: the token, if any, is not sent.
        if (o.sealed) {
          printJson(await api.bootstrap.fetchSealed(externalId, externalKey));
          return;
        }
        if (!o.secure) {
          printJson(await api.bootstrap.fetch(externalId, externalKey));
          return;
        }
        const cipher = o.encryptKey as BootstrapCipher | undefined;
        if (!cipher) {
          throw new UsageError(
            "--secure needs the server's key: pass --encrypt-key <hex> or set TETHYS_BOOTSTRAP_ENCRYPT_KEY",
          );
        }
        printJson(await api.bootstrap.fetchSecure(externalId, externalKey, cipher));
      }),
    );
}

// ---------------------------------------------------------------------------------------
// certs

/** The private key under each of its names in the answer (certs/routes.ts issuedView). */
const KEY_FIELDS = ['cert_key', 'client_key', 'ClientKey'];

export function durationArg(value: string): string {
  const ms = parseGoDuration(value);
  if (ms === null || ms <= 0) {
    throw new InvalidArgumentError('Expected a positive duration such as 8760h, 720h or 90m.');
  }
  return value;
}

/** Certs answers 500 to a limit outside 1..100 (API.md §6): refused here instead. */
function limitArg(value: string): number {
  const n = uintArg(value);
  if (n < 1 || n > 100) throw new InvalidArgumentError('Expected a whole number from 1 to 100.');
  return n;
}

/** A PEM certificate request read from a file (--csr), checked to be one. */
export function readCsr(file: string): string {
  return readPem(file, 'CERTIFICATE REQUEST', 'a PEM certificate request');
}

/**
 * An issued certificate as the commands print it: whole without --out; with --out,
 * <thing id>.crt, <thing id>.key (0600) and ca.crt written there and the key left out.
 */
export function saveIssued<T extends { thing_id: string; cert: string; cert_key?: string; ca_cert: string }>(
  issued: T,
  out: string | undefined,
  thingId = '',
): Partial<T> {
  if (!out) return issued;
  const stem = fileStem(issued.thing_id || thingId);
  if (issued.cert) writeOut(path.join(out, `${stem}.crt`), pemFile(issued.cert));
  if (issued.cert_key) writeOut(path.join(out, `${stem}.key`), pemFile(issued.cert_key), true);
  if (issued.ca_cert) writeOut(path.join(out, 'ca.crt'), pemFile(issued.ca_cert));
  return Object.fromEntries(
    Object.entries(issued).filter(([field]) => !KEY_FIELDS.includes(field)),
  ) as Partial<T>;
}

/** What a new certificate is made of (--key-type, --key-bits, --valid, or --csr) and where it goes (--out). */
export function certificateOptions(command: Command, defaultKeyType: string): Command {
  return command
    .addOption(
      new Option('--key-type <type>', `key made by the server (default ${defaultKeyType})`).choices([
        'rsa',
        'ec',
      ]),
    )
    .addOption(
      new Option('--key-bits <n>', 'rsa: 2048, 3072, 4096; ec: 256, 384 (default: the server’s)').argParser(
        positiveIntArg,
      ),
    )
    .addOption(
      new Option('--valid <duration>', 'validity, e.g. 8760h (default: the server’s)').argParser(durationArg),
    )
    .addOption(
      new Option(
        '--csr <file>',
        'certify the public key of this PEM request instead: no key is made',
      ).conflicts(['keyType', 'keyBits']),
    )
    .option(
      '--out <dir>',
      'write <thing id>.crt, <thing id>.key (0600) and ca.crt there; the printed answer then leaves the key out',
    );
}

function certsCommands(program: Command): void {
  const group = program
    .command('certs')
    .description('client certificates for things (mTLS), and the revocation list');

  const issue = leaf(
    group,
    'issue',
    'issue a certificate for one of your things (POST /certs); prints it',
  ).argument('<thing_id>');
  certificateOptions(issue, 'rsa').action(
    handler<[string]>(true, async (api, [thingId], o) => {
      const csr = o.csr === undefined ? undefined : readCsr(o.csr);
      const out = o.out === undefined ? undefined : prepareOutDir(o.out);
      const body = {
        thing_id: thingId,
        ...(o.keyType !== undefined ? { key_type: o.keyType } : {}),
        ...(o.keyBits !== undefined ? { key_bits: o.keyBits } : {}),
        ...(o.valid !== undefined ? { valid: o.valid } : {}),
        ...(csr !== undefined ? { csr } : {}),
      };
      printJson(saveIssued(await api.certs.issue(body), out, thingId));
    }),
  );

  renewCommand(group);

  leaf(group, 'list', 'list certificate records (GET /certs/{thing_id}): serials, expiry, revocation')
    .argument('<thing_id>')
    .addOption(new Option('--offset <n>', 'skip this many').argParser(uintArg))
    .addOption(new Option('--limit <n>', 'at most this many, 1..100 (server default 10)').argParser(limitArg))
    .action(
      handler<[string]>(true, async (api, [thingId], o) => {
        printJson(await api.certs.list(thingId, { offset: o.offset, limit: o.limit }));
      }),
    );

  leaf(group, 'revoke', "revoke a thing's certificates (DELETE /certs/{thing_id}); prints {RevocationTime}")
    .argument('<thing_id>')
    .action(
      handler<[string]>(true, async (api, [thingId]) => {
        printJson({ RevocationTime: await api.certs.revoke(thingId) });
      }),
    );

  // The list is public; --token is accepted (and sent) all the same.
  leaf(group, 'crl', 'the certificate revocation list (GET /certs/crl), PEM on stdout unless --out is given')
    .option('--der', 'DER instead of PEM (binary: needs --out or a redirected stdout)')
    .option('--out <file>', 'write the list to this file')
    .action(
      handler<[]>(false, async (api, _args, o) => {
        if (o.der && !o.out && process.stdout.isTTY) {
          throw new UsageError('--der is binary: give --out <file> or redirect stdout');
        }
        const crl = o.der ? await api.certs.crlDer() : await api.certs.crl();
        if (o.out) writeOut(o.out, crl);
        else process.stdout.write(crl);
      }),
    );
}
