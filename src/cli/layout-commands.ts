import { type Command, InvalidArgumentError, Option } from 'commander';
import type { ParameterValue, Tethys } from '../../sdk/src/index.js';
import { leaf, pageOptions } from './commands.js';
import { readInput } from './files.js';
import { handler, printJson, UsageError } from './run.js';

/**
 * Named provision layouts from the command line (`tethys layouts …`), and what
 * `provision` needs to use one: `--param` values typed as the layout declares them.
 */
export function layoutCommands(program: Command): void {
  const group = program
    .command('layouts')
    .description("named provision layouts: yours, and the server's read-only default");

  pageOptions(
    leaf(group, 'list', 'list the layouts you may use (GET /layouts): default first, then yours by name'),
  ).action(
    handler<[]>(true, async (api, _args, o) => {
      printJson(await api.layouts.list({ offset: o.offset, limit: o.limit }));
    }),
  );

  leaf(group, 'get', 'show a layout of yours, or default (GET /layouts/{name})')
    .argument('<name>')
    .option('--toml', 'print only its TOML (e.g. to edit it and `layouts update` it)')
    .action(
      handler<[string]>(true, async (api, [name], o) => {
        const layout = await api.layouts.get(name);
        if (o.toml) process.stdout.write(layout.toml.endsWith('\n') ? layout.toml : `${layout.toml}\n`);
        else printJson(layout);
      }),
    );

  leaf(group, 'create', 'store a layout from a TOML file (POST /layouts); prints it with its parameters')
    .argument('<name>', "1 to 64 of a-z, 0-9, '.', '_', '-'")
    .argument('<file>', 'the layout, as the server reads MF_PROVISION_CONFIG_FILE, [server] left out')
    .addHelpText(
      'after',
      `
A layout may declare parameters, used as {{name}} in thing and channel names, metadata and
[bootstrap.content]; {{external_id}}, {{name}} and {{registration_id}} are built in:

  [parameters.site]
  type = "string"          # or "integer", "boolean"
  required = true
  pattern = "^[a-z0-9-]{1,32}$"

  [[things]]
  name = "{{site}}-gateway"
  metadata = { external_id = "x", site = "{{site}}" }

A problem in the file is answered with its line: "layout x line 7: ...".`,
    )
    .action(
      handler<[string, string]>(true, async (api, [name, file]) => {
        printJson(await api.layouts.create(name, readInput(file)));
      }),
    );

  leaf(group, 'update', "replace a layout's TOML from a file (PUT /layouts/{name}); prints it")
    .argument('<name>')
    .argument('<file>')
    .action(
      handler<[string, string]>(true, async (api, [name, file]) => {
        printJson(await api.layouts.update(name, readInput(file)));
      }),
    );

  leaf(group, 'delete', 'delete a layout of yours (DELETE /layouts/{name})')
    .argument('<name>')
    .action(
      handler<[string]>(true, async (api, [name]) => {
        await api.layouts.remove(name);
      }),
    );
}

/** A `--param` as written: `k=v` (typed later, as the layout declares k) or `k:=<JSON>`. */
export interface ParamArg {
  name: string;
  text?: string;
  value?: ParameterValue;
}

/** `--param k=v` (repeatable), as provision, enrollments and enroll take it. */
export function paramOption(
  description = "a value of the layout's parameters (repeat it); name:=<JSON> sends the JSON value as it is",
): Option {
  return new Option('--param <name=value>', description).argParser(paramArg);
}

/** Collects repeated `--param k=v` / `--param k:=<JSON>` options. */
export function paramArg(value: string, previous: ParamArg[] = []): ParamArg[] {
  const typed = /^([^=:]+):=(.*)$/s.exec(value);
  const plain = typed ? null : /^([^=]+)=(.*)$/s.exec(value);
  const name = (typed ?? plain)?.[1]?.trim();
  if (!name) throw new InvalidArgumentError('Expected name=value, or name:=<JSON value> (e.g. floor:=3).');
  if (previous.some((p) => p.name === name)) throw new InvalidArgumentError(`"${name}" is given twice.`);
  if (plain) return [...previous, { name, text: plain[2]! }];
  let parsed: unknown;
  try {
    parsed = JSON.parse(typed![2]!);
  } catch {
    throw new InvalidArgumentError(`${name}:= takes a JSON value: a "string", a number, true or false.`);
  }
  if (!['string', 'number', 'boolean'].includes(typeof parsed)) {
    throw new InvalidArgumentError(`${name}:= takes a JSON value: a "string", a number, true or false.`);
  }
  return [...previous, { name, value: parsed as ParameterValue }];
}

/**
 * The parameters' values: `k:=` ones as given; `k=v` ones as the layout declares k
 * (read with the token, when there is one: integers and booleans from their text),
 * else as text. A text that is not of its declared type is a usage error; a name the
 * layout does not declare is sent as it is, for the server to name.
 */
export async function parameterValues(
  api: Tethys,
  params: ParamArg[],
  layout: string | undefined,
  canRead: boolean,
): Promise<Record<string, ParameterValue>> {
  const needTypes = canRead && params.some((p) => p.text !== undefined);
  const declared = needTypes ? (await api.layouts.get(layout || 'default')).parameters : [];
  const values: Record<string, ParameterValue> = {};
  for (const p of params) {
    if (p.value !== undefined) {
      values[p.name] = p.value;
      continue;
    }
    const text = p.text!;
    const type = declared.find((d) => d.name === p.name)?.type ?? 'string';
    if (type === 'integer') {
      if (!/^-?\d{1,15}$/.test(text))
        throw new UsageError(
          `--param ${p.name}: the layout declares an integer, not ${JSON.stringify(text)}`,
        );
      values[p.name] = Number(text);
    } else if (type === 'boolean') {
      if (text !== 'true' && text !== 'false')
        throw new UsageError(
          `--param ${p.name}: the layout declares true or false, not ${JSON.stringify(text)}`,
        );
      values[p.name] = text === 'true';
    } else {
      values[p.name] = text;
    }
  }
  return values;
}
