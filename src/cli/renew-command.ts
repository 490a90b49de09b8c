import { type Command, Option } from 'commander';
import type { IssuedCert, RenewRequest, Tethys } from '../../sdk/src/index.js';
import { leaf } from './commands.js';
import { prepareOutDir } from './files.js';
import { certificateOptions, durationArg, readCsr, saveIssued } from './gateway-commands.js';
import { Progress } from './progress.js';
import { handler, printJson, UsageError } from './run.js';

/** The expiring list is read a page of this many at a time (the server's maximum). */
const PAGE = 100;

/**
 * `tethys certs renew <serial>` (POST /certs/{serial}/renew) and `tethys certs renew
 * --expiring 720h`: every valid certificate of yours (the admin: everyone's) that
 * expires within the window, renewed one by one with a progress display on stderr.
 */
export function renewCommand(group: Command): void {
  const renew = leaf(
    group,
    'renew',
    'renew a certificate by serial (POST /certs/{serial}/renew), or with --expiring every one expiring within a window; prints the new certificate(s)',
  )
    .argument('[serial]', 'the cert_serial of the certificate to renew')
    .addOption(
      new Option('--expiring <duration>', 'renew every certificate expiring within this window, e.g. 720h')
        .argParser(durationArg)
        .conflicts(['csr']),
    )
    .option(
      '--revoke-old',
      'revoke each renewed certificate at once (default: it stays valid until it expires)',
    )
    .option('--no-progress', 'no progress display on stderr (--expiring)');
  certificateOptions(renew, "the old certificate's").action(
    handler<[string | undefined]>(true, async (api, [serial], o) => {
      if ((serial === undefined) === (o.expiring === undefined)) {
        throw new UsageError('give either a serial or --expiring <duration>');
      }
      const request: RenewRequest = {
        ...(o.keyType !== undefined ? { key_type: o.keyType } : {}),
        ...(o.keyBits !== undefined ? { key_bits: o.keyBits } : {}),
        ...(o.valid !== undefined ? { valid: o.valid } : {}),
        ...(o.csr !== undefined ? { csr: readCsr(o.csr) } : {}),
        ...(o.revokeOld ? { revoke_old: true } : {}),
      };
      const out = o.out === undefined ? undefined : prepareOutDir(o.out);
      if (serial !== undefined) {
        printJson(saveIssued(await api.certs.renew(serial, request), out));
        return;
      }
      printJson(await renewExpiring(api, o.expiring, request, out, o.progress !== false));
    }),
  );
}

/** What --expiring prints: each new certificate with the serial it replaces, and each that failed. */
interface Renewals {
  renewed: { old_serial: string; cert: Partial<IssuedCert> }[];
  failed: { old_serial: string; error: string }[];
}

/** Lists every certificate expiring within `window` first, then renews each: the list does not shift under the renewals. */
async function renewExpiring(
  api: Tethys,
  window: string,
  request: RenewRequest,
  out: string | undefined,
  showProgress: boolean,
): Promise<Renewals> {
  const serials: string[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await api.certs.expiring(window, { offset, limit: PAGE });
    serials.push(...page.certs.map((c) => c.cert_serial));
    if (page.certs.length < PAGE || offset + PAGE >= page.total) break;
  }
  const progress = new Progress(serials.length, process.stderr, {
    verb: 'renewed',
    unit: 'certs',
    enabled: showProgress,
  });
  const result: Renewals = { renewed: [], failed: [] };
  progress.update(0);
  try {
    for (const [done, serial] of serials.entries()) {
      try {
        result.renewed.push({
          old_serial: serial,
          cert: saveIssued(await api.certs.renew(serial, request), out),
        });
      } catch (err) {
        // One certificate revoked or deleted meanwhile does not lose the others' new keys.
        result.failed.push({ old_serial: serial, error: (err as Error).message });
        process.exitCode = 1;
      }
      progress.update(done + 1);
    }
  } finally {
    progress.finish();
  }
  return result;
}
