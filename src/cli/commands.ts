import { Argument, type Command, Option } from 'commander';
import { type BulkKind, describeFailure, importBulk, readBulkFile } from './bulk.js';
import { enrollCommand, enrollmentsCommands } from './enroll-commands.js';
import { eventCommands } from './event-commands.js';
import { gatewayCommands } from './gateway-commands.js';
import { layoutCommands } from './layout-commands.js';
import {
  EXIT_FAILED,
  handler,
  idListArg,
  intArg,
  jsonObjectArg,
  positiveIntArg,
  printJson,
  ReportedFailure,
  uintArg,
  urlArg,
  usageExitCodes,
} from './run.js';

/**
 * The client side of `tethys`, in the spirit of mainflux-cli: one command per API call,
 * JSON on stdout, one `error: ...` line on stderr and exit 1 when a request fails, exit 2
 * when the command line is wrong (then nothing is sent).
 */
export function registerClientCommands(program: Command): void {
  usersCommands(program);
  entityCommands(program, 'things');
  entityCommands(program, 'channels');
  keysCommands(program);
  groupsCommands(program);
  program
    .command('connect')
    .description('connect every listed channel with every listed thing (POST /connect, all or nothing)')
    .addArgument(new Argument('<channelIds>', 'channel ids, comma-separated').argParser(idListArg))
    .addArgument(new Argument('<thingIds>', 'thing ids, comma-separated').argParser(idListArg))
    .addOption(urlOption())
    .addOption(tokenOption())
    .action(
      handler<[string[], string[]]>(true, async (api, [channelIds, thingIds]) => {
        await api.connect(channelIds, thingIds);
      }),
    );
  gatewayCommands(program);
  layoutCommands(program);
  enrollmentsCommands(program);
  enrollCommand(program);
  eventCommands(program);
  const hintOnError = (command: Command): void => {
    command.showHelpAfterError('(add --help for usage)');
    command.commands.forEach(hintOnError);
  };
  program.commands.filter((c) => c.name() !== 'serve').forEach(hintOnError);
  usageExitCodes(program);
}

export function urlOption(): Option {
  return new Option('--url <base>', 'base URL of the Tethys API')
    .env('TETHYS_URL')
    .default('http://localhost:9000')
    .argParser(urlArg);
}

export function tokenOption(): Option {
  return new Option('--token <token>', 'user token or API key').env('TETHYS_TOKEN');
}

/** A leaf command that talks to the server; `auth` adds --token. */
export function leaf(parent: Command, name: string, description: string, auth = true): Command {
  const command = parent.command(name).description(description).addOption(urlOption());
  if (auth) command.addOption(tokenOption());
  return command;
}

/** --offset and --limit of a paged list. */
export function pageOptions(command: Command): Command {
  return command
    .addOption(new Option('--offset <n>', 'skip this many').argParser(uintArg))
    .addOption(new Option('--limit <n>', 'at most this many, 1..100 (server default 10)').argParser(uintArg));
}

const jsonArgument = (name: string, description: string) =>
  new Argument(name, description).argParser(jsonObjectArg);

function usersCommands(program: Command): void {
  const users = program.command('users').description('user accounts and login tokens');

  leaf(users, 'create', 'register a user (POST /users); prints {id, email}', false)
    .argument('<email>')
    .argument('<password>')
    .addOption(
      new Option('--metadata <json>', 'metadata object to store with the user').argParser(jsonObjectArg),
    )
    .action(
      handler<[string, string]>(false, async (api, [email, password], options) => {
        const id = await api.users.register(email, password, options.metadata);
        printJson({ id, email });
      }),
    );

  leaf(
    users,
    'token',
    'log in (POST /tokens); prints the token alone, so TOK=$(tethys users token ...) works',
    false,
  )
    .argument('<email>')
    .argument('<password>')
    .action(
      handler<[string, string]>(false, async (api, [email, password]) => {
        process.stdout.write(`${await api.users.login(email, password)}\n`);
      }),
    );

  leaf(users, 'get', 'show a user (GET /users/{id}), or yourself when no id is given (GET /users/profile)')
    .argument('[id]')
    .action(
      handler<[string | undefined]>(true, async (api, [id]) => {
        printJson(await (id ? api.users.get(id) : api.users.profile()));
      }),
    );
}

function listOptions(command: Command): Command {
  return pageOptions(command)
    .addOption(new Option('--order <field>', 'sort by').choices(['name', 'id']))
    .addOption(
      new Option('--dir <direction>', 'sort direction (server default desc)').choices(['asc', 'desc']),
    );
}

/** things and channels share their commands; only things have keys and connect/disconnect. */
function entityCommands(program: Command, kind: BulkKind): void {
  const one = kind === 'things' ? 'thing' : 'channel';
  const other = kind === 'things' ? 'channels' : 'things';
  const group = program
    .command(kind)
    .description(kind === 'things' ? 'things (devices and applications)' : 'channels (message topics)');
  const example =
    kind === 'things'
      ? '\'{"name":"x","key":"k","metadata":{"serial":"1"}}\''
      : '\'{"name":"x","metadata":{"room":"1"}}\'';

  leaf(group, 'create', `create a ${one} (POST /${kind}); prints it as stored`)
    .addArgument(jsonArgument('<json>', `the ${one}, e.g. ${example}`))
    .action(
      handler<[Record<string, unknown>]>(true, async (api, [body]) => {
        const id = await api[kind].create(body);
        printJson(await api[kind].get(id));
      }),
    );

  leaf(group, 'get', `show a ${one} (GET /${kind}/{id})`)
    .argument('<id>')
    .action(
      handler<[string]>(true, async (api, [id]) => {
        printJson(await api[kind].get(id));
      }),
    );

  listOptions(leaf(group, 'list', `list your ${kind} (GET /${kind})`))
    .option('--name <text>', 'name contains (case-insensitive)')
    .addOption(new Option('--metadata <json>', 'metadata contains this JSON object').argParser(jsonObjectArg))
    .action(
      handler<[]>(true, async (api, _args, o) => {
        const { offset, limit, name, metadata, order, dir } = o;
        printJson(await api[kind].list({ offset, limit, name, metadata, order, dir }));
      }),
    );

  leaf(
    group,
    'update',
    `replace a ${one}'s name and metadata (PUT /${kind}/{id}; an omitted field is cleared); prints it`,
  )
    .argument('<id>')
    .addArgument(jsonArgument('<json>', `new name and metadata, e.g. '{"name":"y","metadata":{}}'`))
    .action(
      handler<[string, Record<string, unknown>]>(true, async (api, [id, body]) => {
        await api[kind].update(id, body);
        printJson(await api[kind].get(id));
      }),
    );

  leaf(group, 'delete', `delete a ${one} (DELETE /${kind}/{id}; succeeds also when it does not exist)`)
    .argument('<id>')
    .action(
      handler<[string]>(true, async (api, [id]) => {
        await api[kind].remove(id);
      }),
    );

  listOptions(
    leaf(group, 'connections', `list the ${other} connected to a ${one} (GET /${kind}/{id}/${other})`),
  )
    .argument(`<${one}Id>`)
    .option('--disconnected', `list your ${other} that are NOT connected to it instead`)
    .action(
      handler<[string]>(true, async (api, [id], o) => {
        const query = {
          offset: o.offset,
          limit: o.limit,
          order: o.order,
          dir: o.dir,
          connected: !o.disconnected,
        };
        printJson(
          await (kind === 'things' ? api.things.channels(id, query) : api.channels.things(id, query)),
        );
      }),
    );

  if (kind === 'things') {
    leaf(group, 'connect', 'connect a thing to a channel (POST /connect)')
      .argument('<thingId>')
      .argument('<channelId>')
      .action(
        handler<[string, string]>(true, async (api, [thingId, channelId]) => {
          await api.connect([channelId], [thingId]);
        }),
      );

    leaf(
      group,
      'disconnect',
      'disconnect a thing from a channel (DELETE /channels/{channelId}/things/{thingId})',
    )
      .argument('<thingId>')
      .argument('<channelId>')
      .action(
        handler<[string, string]>(true, async (api, [thingId, channelId]) => {
          await api.disconnect(channelId, thingId);
        }),
      );
  }

  const columns = kind === 'things' ? 'name,key,metadata' : 'name,metadata';
  leaf(
    group,
    'bulk',
    `create ${kind} from a CSV or JSON file (POST /${kind}/bulk, in batches); prints {created: N}`,
  )
    .argument(
      '<file>',
      `.csv with a header row naming the columns (${columns}; metadata as JSON), or .json with an array of ${kind}`,
    )
    .addOption(new Option('--batch <n>', `${kind} per request`).default(1000).argParser(positiveIntArg))
    .option(
      '--print',
      `print the created ${kind} (ids${kind === 'things' ? ', keys' : ''}) instead of the count`,
    )
    .option('--no-progress', 'no progress display on stderr')
    .addHelpText(
      'after',
      `\nThe file is checked completely before anything is sent. Each batch is all or nothing; the import
stops at the first failed batch and says which rows it held and how many ${kind} were created before.

Example CSV:
  ${columns}
  ${kind === 'things' ? '"Sensor, hall",,"{""floor"":1}"' : '"Hall, north","{""floor"":1}"'}
`,
    )
    .action(
      handler<[string]>(true, async (api, [file], o) => {
        const rows = readBulkFile(file, kind);
        const outcome = await importBulk(api, kind, rows, {
          batch: o.batch,
          keep: Boolean(o.print),
          progress: o.progress !== false,
        });
        const summary = o.print ? { [kind]: outcome.items } : { created: outcome.created };
        if (!outcome.failure) {
          printJson(summary);
          return;
        }
        // What was created stays created: say so on stdout too, so a script can pick up the ids.
        const failed = outcome.failure.rows;
        printJson({
          ...summary,
          created: outcome.created,
          failed: {
            first_row: failed[0]!.row,
            last_row: failed[failed.length - 1]!.row,
            error: outcome.failure.error.summary,
          },
        });
        process.stderr.write(`${describeFailure(kind, outcome.failure, outcome.created, file).join('\n')}\n`);
        throw new ReportedFailure(EXIT_FAILED);
      }),
    );
}

function groupsCommands(program: Command): void {
  const groups = program.command('groups').description('groups: trees of up to five levels with members');
  const levelOption = () =>
    new Option('--level <n>', 'levels to include, 1..5 (server default 1)').argParser(positiveIntArg);

  leaf(groups, 'create', 'create a group (POST /groups); prints it as stored')
    .addArgument(
      jsonArgument('<json>', 'the group, e.g. \'{"name":"site-a","description":"…","metadata":{}}\''),
    )
    .option('--parent <groupId>', 'create it under this group')
    .action(
      handler<[Record<string, unknown>]>(true, async (api, [body], o) => {
        const id = await api.groups.create(o.parent ? { ...body, parent_id: o.parent } : body);
        printJson(await api.groups.get(id));
      }),
    );

  leaf(groups, 'get', 'show a group (GET /groups/{id})')
    .argument('<id>')
    .action(
      handler<[string]>(true, async (api, [id]) => {
        printJson(await api.groups.get(id));
      }),
    );

  leaf(groups, 'list', 'list your groups down to --level (GET /groups)')
    .addOption(levelOption())
    .option('--tree', 'nest children inside their parents')
    .addOption(new Option('--metadata <json>', 'metadata contains this JSON object').argParser(jsonObjectArg))
    .action(
      handler<[]>(true, async (api, _args, o) => {
        printJson(await api.groups.list({ level: o.level, tree: Boolean(o.tree), metadata: o.metadata }));
      }),
    );

  for (const [name, description] of [
    ['children', 'a group and its descendants down to --level (GET /groups/{id}/children)'],
    ['parents', 'a group and its ancestors up to --level (GET /groups/{id}/parents)'],
  ] as const) {
    leaf(groups, name, description)
      .argument('<id>')
      .addOption(levelOption())
      .option('--tree', 'nest children inside their parents')
      .action(
        handler<[string]>(true, async (api, [id], o) => {
          printJson(await api.groups[name](id, { level: o.level, tree: Boolean(o.tree) }));
        }),
      );
  }

  leaf(groups, 'update', "replace a group's name, description and metadata (PUT /groups/{id}); prints it")
    .argument('<id>')
    .addArgument(jsonArgument('<json>', 'e.g. \'{"name":"site-b","description":"","metadata":{}}\''))
    .action(
      handler<[string, Record<string, unknown>]>(true, async (api, [id, body]) => {
        await api.groups.update(id, body);
        printJson(await api.groups.get(id));
      }),
    );

  leaf(groups, 'delete', 'delete a group and its subtree (DELETE /groups/{id}; refused while it has members)')
    .argument('<id>')
    .action(
      handler<[string]>(true, async (api, [id]) => {
        await api.groups.remove(id);
      }),
    );

  leaf(groups, 'assign', 'add members of one type to a group (POST /groups/{id}/members, all or nothing)')
    .argument('<groupId>')
    .argument('<type>', 'member type, e.g. things or users')
    .addArgument(new Argument('<memberIds>', 'member ids, comma-separated').argParser(idListArg))
    .action(
      handler<[string, string, string[]]>(true, async (api, [id, type, members]) => {
        await api.groups.assign(id, type, members);
      }),
    );

  leaf(groups, 'unassign', 'remove members from a group (DELETE /groups/{id}/members)')
    .argument('<groupId>')
    .addArgument(new Argument('<memberIds>', 'member ids, comma-separated').argParser(idListArg))
    .action(
      handler<[string, string[]]>(true, async (api, [id, members]) => {
        await api.groups.unassign(id, members);
      }),
    );

  pageOptions(leaf(groups, 'members', "list a group's members (GET /groups/{id}/members)"))
    .argument('<groupId>')
    .option('--type <type>', 'only members of this type')
    .action(
      handler<[string]>(true, async (api, [id], o) => {
        printJson(await api.groups.members(id, { offset: o.offset, limit: o.limit, type: o.type }));
      }),
    );

  pageOptions(leaf(groups, 'membership', 'list your groups a member is in (GET /members/{id}/groups)'))
    .argument('<memberId>')
    .action(
      handler<[string]>(true, async (api, [id], o) => {
        printJson(await api.groups.memberships(id, { offset: o.offset, limit: o.limit }));
      }),
    );

  pageOptions(leaf(groups, 'things', 'list your things in a group (GET /groups/things/{id})'))
    .argument('<groupId>')
    .action(
      handler<[string]>(true, async (api, [id], o) => {
        printJson(await api.groups.things(id, { offset: o.offset, limit: o.limit }));
      }),
    );
}

function keysCommands(program: Command): void {
  const keys = program.command('keys').description('API keys (long-lived tokens for scripts and services)');

  leaf(keys, 'create', 'issue an API key (POST /keys, type 2); needs a login token; the key is "value"')
    .addOption(
      new Option('--duration <seconds>', 'lifetime in seconds (0 or absent: never expires)').argParser(
        intArg,
      ),
    )
    .action(
      handler<[]>(true, async (api, _args, o) => {
        printJson(await api.keys.issue(o.duration));
      }),
    );

  leaf(keys, 'get', 'show an API key you issued (GET /keys/{id})')
    .argument('<id>')
    .action(
      handler<[string]>(true, async (api, [id]) => {
        printJson(await api.keys.get(id));
      }),
    );

  leaf(keys, 'revoke', 'revoke an API key (DELETE /keys/{id})')
    .argument('<id>')
    .action(
      handler<[string]>(true, async (api, [id]) => {
        await api.keys.revoke(id);
      }),
    );
}
