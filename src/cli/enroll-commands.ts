import crypto from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { type Command, InvalidArgumentError, Option } from 'commander';
import {
  deriveDeviceKey,
  type Enrollment,
  type EnrollmentChange,
  type NewEnrollment,
  Tethys,
} from '../../sdk/src/index.js';
import { x509 } from '../certs/x509.js';
import { leaf, pageOptions } from './commands.js';
import { pemFile, prepareOutDir, readPem, readPrivateKey, writeOut } from './files.js';
import { durationArg } from './gateway-commands.js';
import { type ParamArg, parameterValues, paramOption } from './layout-commands.js';
import { handler, positiveIntArg, printJson, UsageError, uintArg } from './run.js';
import { type TlsOptions, tlsFetch } from './tls-fetch.js';

/**
 * Zero-touch enrollment from the command line: the operator's `enrollments …` (groups,
 * their key, their devices) and the device's `enroll` (a key pair made here, a CSR, the
 * registration, and the files a device keeps). Same conventions as the other client
 * commands: JSON on stdout, `error: ...` and exit 1 when a request fails, exit 2 with
 * nothing sent when the command line is wrong.
 */
export function enrollmentsCommands(program: Command): void {
  const group = program
    .command('enrollments')
    .description('enrollment groups: a fleet sharing one credential provisions itself (`tethys enroll`)');
  createCommand(group);
  readCommands(group);
  updateCommand(group);

  leaf(group, 'rotate-key', 'a new group key (POST /enrollments/{id}/rotate-key); the old one stops at once')
    .argument('<id>')
    .action(
      handler<[string]>(true, async (api, [id]) => {
        printJson({ group_key: await api.enrollments.rotateKey(id) });
      }),
    );

  leaf(group, 'delete', 'delete a group (DELETE /enrollments/{id}); its enrolled devices stay as they are')
    .argument('<id>')
    .action(
      handler<[string]>(true, async (api, [id]) => {
        await api.enrollments.remove(id);
      }),
    );
}

/** `--max-devices N|none`: none is no limit (null; kept as 'none' here, as commander turns null into ''). */
function maxDevicesArg(value: string): number | 'none' {
  if (value === 'none') return 'none';
  try {
    return uintArg(value);
  } catch {
    throw new InvalidArgumentError('Expected a whole number ≥ 0, or none (no limit).');
  }
}

function createCommand(group: Command): void {
  leaf(
    group,
    'create',
    'create an enrollment group (POST /enrollments); prints it, with group_key for symmetric_key',
  )
    .argument('<name>')
    .addOption(
      new Option('--attestation <kind>', 'how devices prove they belong to the group')
        .choices(['symmetric_key', 'x509'])
        .makeOptionMandatory(),
    )
    .option('--ca-cert <file>', 'x509: the CA (PEM) device certificates chain to, with CN = registration id')
    .option('--layout <name>', 'the layout devices get (see `tethys layouts`); default: default')
    .addOption(paramOption("a value of the layout's parameters for every device of the group (repeat it)"))
    .option('--pattern <regex>', 'registration ids must match it (JavaScript syntax), else 403')
    .addOption(
      new Option('--max-devices <n>', 'at most this many devices (default: no limit)').argParser(uintArg),
    )
    .addOption(
      new Option('--cert-key-type <type>', 'a device sending no CSR gets a key made by the server').choices([
        'ec',
        'rsa',
      ]),
    )
    .addOption(
      new Option('--cert-key-bits <n>', 'rsa: 2048, 3072, 4096; ec: 256, 384').argParser(positiveIntArg),
    )
    .addOption(
      new Option('--cert-valid <duration>', "devices' certificates' validity, e.g. 8760h").argParser(
        durationArg,
      ),
    )
    .option('--disabled', 'create it disabled: devices are refused (403) until `enrollments update --enable`')
    .addHelpText(
      'after',
      `
Devices enroll with \`tethys enroll <group id> <registration id> --group-key <group_key>\`
(symmetric_key), or with a certificate from the group's CA (x509, over HTTPS). Without
--cert-*, a certificate is issued only for a device's CSR (\`tethys enroll\` always sends one).`,
    )
    .action(
      handler<[string]>(true, async (api, [name], o) => {
        if (o.attestation === 'x509' && o.caCert === undefined) {
          throw new UsageError(
            '--attestation x509 needs --ca-cert <file>: the CA device certificates chain to',
          );
        }
        if (o.attestation !== 'x509' && o.caCert !== undefined) {
          throw new UsageError('--ca-cert is for --attestation x509 only');
        }
        const caCert =
          o.caCert === undefined ? undefined : readPem(o.caCert, 'CERTIFICATE', 'a PEM certificate');
        const params = (o.param ?? []) as ParamArg[];
        const body: NewEnrollment = {
          name,
          attestation: o.attestation,
          ...(caCert !== undefined ? { ca_cert: caCert } : {}),
          ...(o.layout !== undefined ? { layout: o.layout } : {}),
          ...(params.length > 0 ? { parameters: await parameterValues(api, params, o.layout, true) } : {}),
          ...(o.pattern !== undefined ? { registration_id_pattern: o.pattern } : {}),
          ...(o.maxDevices !== undefined ? { max_devices: o.maxDevices } : {}),
          ...(certificateSetting(o) ?? {}),
          ...(o.disabled ? { enabled: false } : {}),
        };
        printJson(await api.enrollments.create(body));
      }),
    );
}

/** --cert-key-type, --cert-key-bits, --cert-valid: the group's `certificate`, when any is given. */
function certificateSetting(o: Record<string, any>): Pick<NewEnrollment, 'certificate'> | undefined {
  if (o.certKeyType === undefined && o.certKeyBits === undefined && o.certValid === undefined)
    return undefined;
  return {
    certificate: {
      ...(o.certKeyType !== undefined ? { key_type: o.certKeyType } : {}),
      ...(o.certKeyBits !== undefined ? { key_bits: o.certKeyBits } : {}),
      ...(o.certValid !== undefined ? { valid: o.certValid } : {}),
    },
  };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

function readCommands(group: Command): void {
  pageOptions(leaf(group, 'list', 'list your enrollment groups (GET /enrollments)'))
    .option('--all', 'every group, all pages: {"total","enrollments"}')
    .action(
      handler<[]>(true, async (api, _args, o) => {
        if (o.all) {
          if (o.offset !== undefined || o.limit !== undefined) {
            throw new UsageError('--all takes every page: leave out --offset and --limit');
          }
          const enrollments = await collect(api.enrollments.all());
          printJson({ total: enrollments.length, enrollments });
          return;
        }
        printJson(await api.enrollments.list({ offset: o.offset, limit: o.limit }));
      }),
    );

  leaf(group, 'get', 'show an enrollment group (GET /enrollments/{id}), with its group_key')
    .argument('<id>')
    .action(
      handler<[string]>(true, async (api, [id]) => {
        printJson(await api.enrollments.get(id));
      }),
    );

  pageOptions(
    leaf(
      group,
      'registrations',
      "a group's enrolled devices (GET /enrollments/{id}/registrations): registration_id, thing_id, first_enrolled, last_enrolled, count",
    ),
  )
    .argument('<id>')
    .option('--all', 'every device, all pages: {"total","registrations"}')
    .action(
      handler<[string]>(true, async (api, [id], o) => {
        if (o.all) {
          if (o.offset !== undefined || o.limit !== undefined) {
            throw new UsageError('--all takes every page: leave out --offset and --limit');
          }
          const registrations = await collect(api.enrollments.allRegistrations(id));
          printJson({ total: registrations.length, registrations });
          return;
        }
        printJson(await api.enrollments.registrations(id, { offset: o.offset, limit: o.limit }));
      }),
    );
}

function updateCommand(group: Command): void {
  leaf(group, 'update', 'change a group (PATCH /enrollments/{id}); prints it')
    .argument('<id>')
    .addOption(new Option('--enable', 'let devices register again').conflicts('disable'))
    .option('--disable', 'refuse registrations (403); enrolled devices keep working')
    .addOption(
      new Option('--max-devices <n|none>', 'at most this many devices; none: no limit').argParser(
        maxDevicesArg,
      ),
    )
    .option('--pattern <regex>', "registration ids must match it; '' lets every id in")
    .addOption(
      paramOption("set a value of the layout's parameters (repeat it); the group's other values stay"),
    )
    .option('--replace-params', "the --param values given become all of the group's values (none: no values)")
    .action(
      handler<[string]>(true, async (api, [id], o) => {
        const params = (o.param ?? []) as ParamArg[];
        const change: EnrollmentChange = {
          ...(o.enable ? { enabled: true } : {}),
          ...(o.disable ? { enabled: false } : {}),
          ...(o.maxDevices !== undefined
            ? { max_devices: o.maxDevices === 'none' ? null : o.maxDevices }
            : {}),
          ...(o.pattern !== undefined ? { registration_id_pattern: o.pattern } : {}),
        };
        if (params.length > 0 || o.replaceParams) {
          // The values are typed as the group's layout declares them; PATCH replaces the set.
          const current: Enrollment = await api.enrollments.get(id);
          const values = await parameterValues(api, params, current.layout, true);
          change.parameters = o.replaceParams ? values : { ...current.parameters, ...values };
        }
        if (Object.keys(change).length === 0) {
          throw new UsageError(
            'nothing to change: give --enable, --disable, --max-devices, --pattern, --param or --replace-params',
          );
        }
        printJson(await api.enrollments.update(id, change));
      }),
    );
}

// ---------------------------------------------------------------------------------------
// The device side: tethys enroll

const KEY_BITS = { ec: [256, 384], rsa: [2048, 3072, 4096] } as const;
type KeyKind = keyof typeof KEY_BITS;

/** A base64 group key, as `enrollments create` printed it; empty is none. */
function groupKeyArg(value: string): string {
  const key = value.trim();
  if (key === '') return ''; // an empty TETHYS_GROUP_KEY is no key
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || key.length % 4 !== 0) {
    throw new InvalidArgumentError('Expected the base64 group_key of the enrollment group.');
  }
  return key;
}

/** A key pair made here (the private key never leaves the device) and a CSR for it, CN = the registration id. */
async function keyAndCsr(
  kind: KeyKind,
  bits: number,
  registrationId: string,
): Promise<{ keyPem: string; csrPem: string }> {
  const generate = promisify(crypto.generateKeyPair);
  const ecCurve = bits === 384 ? 'P-384' : 'P-256';
  const hash = bits === 384 ? 'SHA-384' : 'SHA-256';
  const { privateKey, publicKey } =
    kind === 'ec'
      ? await generate('ec', { namedCurve: ecCurve })
      : await generate('rsa', { modulusLength: bits, publicExponent: 0x10001 });
  // The CSR is signed through WebCrypto (@peculiar/x509): the same key, imported.
  const algorithm =
    kind === 'ec' ? { name: 'ECDSA', namedCurve: ecCurve } : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const subtle = crypto.webcrypto.subtle;
  const keys = {
    privateKey: await subtle.importKey(
      'pkcs8',
      privateKey.export({ type: 'pkcs8', format: 'der' }),
      algorithm,
      false,
      ['sign'],
    ),
    publicKey: await subtle.importKey(
      'spki',
      publicKey.export({ type: 'spki', format: 'der' }),
      algorithm,
      true,
      ['verify'],
    ),
  } as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    {
      name: [{ CN: [registrationId] }],
      keys,
      signingAlgorithm:
        kind === 'ec' ? { name: 'ECDSA', hash } : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    },
    crypto.webcrypto as unknown as Crypto,
  );
  return {
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    csrPem: csr.toString('pem'),
  };
}

/**
 * The device's credential from the command line, checked before anything is sent: the
 * group key, or the client certificate and key (read here) for an https URL; and a CA
 * to trust for the server's certificate.
 */
function deviceCredential(o: Record<string, any>): { groupKey?: string; tls: TlsOptions } {
  // An empty TETHYS_GROUP_KEY reaches here as '' (commander's value for a parser's undefined).
  const groupKey: string | undefined = o.groupKey || undefined;
  const x509Mode = o.cert !== undefined || o.key !== undefined;
  if (x509Mode && (o.cert === undefined || o.key === undefined)) {
    throw new UsageError('--cert and --key go together: the certificate and its private key');
  }
  if (x509Mode === (groupKey !== undefined)) {
    throw new UsageError(
      'give the group credential: --group-key <base64> (symmetric_key), or --cert <file> --key <file> (x509)',
    );
  }
  const https = new URL(o.url).protocol === 'https:';
  if (x509Mode && !https) {
    throw new UsageError(
      '--cert needs an https URL (--url https://…): the certificate is presented over TLS',
    );
  }
  if (o.ca !== undefined && !https) {
    throw new UsageError("--ca needs an https URL (--url https://…): it is for the server's certificate");
  }
  const tls: TlsOptions = {
    ...(o.ca !== undefined ? { ca: readPem(o.ca, 'CERTIFICATE', 'a PEM certificate') } : {}),
    ...(x509Mode
      ? { cert: readPem(o.cert, 'CERTIFICATE', 'a PEM certificate'), key: readPrivateKey(o.key) }
      : {}),
  };
  return { groupKey, tls };
}

export function enrollCommand(program: Command): void {
  leaf(
    program,
    'enroll',
    'enroll this device in a group (POST /enrollments/{id}/register): a key pair made here, a CSR, then thing.key, thing.crt, ca.crt and config.json in --out',
    false,
  )
    .argument('<group_id>', 'the enrollment group')
    .argument('<registration_id>', "this device's id (e.g. its serial number): the CN of its CSR")
    .addOption(
      new Option('--group-key <base64>', "symmetric_key: the group's key (the device key is derived from it)")
        .env('TETHYS_GROUP_KEY')
        .argParser(groupKeyArg),
    )
    .option(
      '--cert <file>',
      "x509: this device's certificate (PEM, from the group's CA, CN = registration id)",
    )
    .option('--key <file>', "x509: that certificate's private key (PEM)")
    .option(
      '--ca <file>',
      "trust this CA (PEM) for the server's certificate (https URLs; e.g. a self-signed one)",
    )
    .option('--out <dir>', 'where the files go (made 0700 when missing)', '.')
    .addOption(
      paramOption(
        'a value of a layout parameter the layout lets devices set (device = true; repeat it); sent as text, name:=<JSON> as JSON',
      ),
    )
    .addOption(new Option('--key-type <type>', 'the key pair made here').choices(['ec', 'rsa']).default('ec'))
    .addOption(
      new Option('--key-bits <n>', 'ec: 256 (default), 384; rsa: 2048 (default), 3072, 4096').argParser(
        positiveIntArg,
      ),
    )
    .addHelpText(
      'after',
      `
Writes, in --out: thing.key (the private key made here, 0600; it is never sent),
thing.crt (its certificate, CN = the thing id), ca.crt (the issuing CA) and config.json
(what the gateway's bootstrap answers: mainflux_id, mainflux_key, channels, content; 0600).
The first registration makes the thing (created: true); running it again gets the same
thing and a new certificate for a new key (created: false).

  tethys enroll <group id> SN00000042 --group-key "$GROUP_KEY" --out ./SN00000042
  tethys enroll <group id> SN00000042 --cert dev.crt --key dev.key --ca server.crt \\
    --url https://tethys.example.com:9000`,
    )
    .action(
      handler<[string, string]>(false, async (api, [groupId, registrationId], o) => {
        const { groupKey, tls } = deviceCredential(o);
        const kind = o.keyType as KeyKind;
        const bits: number = o.keyBits ?? KEY_BITS[kind][0];
        if (!(KEY_BITS[kind] as readonly number[]).includes(bits)) {
          throw new UsageError(`--key-bits ${bits}: ${kind} takes ${KEY_BITS[kind].join(', ')}`);
        }
        const out = prepareOutDir(o.out);
        const params = (o.param ?? []) as ParamArg[];
        const parameters =
          params.length > 0 ? await parameterValues(api, params, undefined, false) : undefined;
        const device = Object.keys(tls).length > 0 ? new Tethys({ url: o.url, fetch: tlsFetch(tls) }) : api;

        const { keyPem, csrPem } = await keyAndCsr(kind, bits, registrationId);
        const deviceKey =
          groupKey === undefined ? undefined : await deriveDeviceKey(groupKey, registrationId);
        const registered = await device.enrollments.register(
          groupId,
          { registration_id: registrationId, csr: csrPem, ...(parameters ? { parameters } : {}) },
          deviceKey,
        );

        const files: string[] = [];
        const write = (name: string, content: string, secret = false) => {
          const file = path.join(out, name);
          writeOut(file, content, secret);
          files.push(file);
        };
        if (registered.certificate) {
          write('thing.key', pemFile(keyPem), true);
          write('thing.crt', pemFile(registered.certificate.client_cert));
          write('ca.crt', pemFile(registered.certificate.issuing_ca));
        } else {
          process.stderr.write(
            'note: the server answered without a certificate: thing.key, thing.crt and ca.crt not written\n',
          );
        }
        write('config.json', `${JSON.stringify(registered.bootstrap, null, 2)}\n`, true);
        printJson({
          registration_id: registered.registration_id,
          thing_id: registered.thing_id,
          created: registered.created,
          files,
        });
      }),
    );
}
