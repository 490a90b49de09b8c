import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { Tethys, TethysError } from '../sdk/src/index.js';
import { assertError, ids, listAll, page, sorted } from './helpers/entities.js';
import { runCli } from './helpers/process.js';
import {
  client,
  dialect,
  type Request,
  recordingFetch,
  startServer,
  userToken,
  withServer,
} from './helpers/server.js';

/**
 * Named provision layouts (issue 19): CRUD and paging, who sees what, the read-only
 * `default`, the messages of bad layouts, parameters and their placeholders, and
 * /mapping with a named layout, end to end.
 */

const uid = () => crypto.randomBytes(5).toString('hex');

/** The minimum a named layout needs: a gateway thing, a control and a data channel. */
const PLAIN = `[[things]]
name = "gw"
[things.metadata]
external_id = "x"

[[channels]]
name = "control"
metadata = { type = "control" }

[[channels]]
name = "data"
metadata = { type = "data" }
`;

/** Every kind of parameter and placeholder: names, nested metadata, typed whole values, content. */
const SENSOR = `[parameters.site]
type = "string"
required = true
pattern = "^[a-z0-9-]{1,32}$"

[parameters.floor]
type = "integer"
required = true

[parameters.indoor]
type = "boolean"
default = true

[parameters.label]
type = "string"
default = "unnamed"
device = true

[parameters.spare]
type = "integer"

[bootstrap.content.agent]
site = "{{site}}"
floor = "{{floor}}"
indoor = "{{indoor}}"
url = "mqtts://{{site}}.example.com:8883"
untouched = "{{ .Value }}"

[[bootstrap.content.routes]]
topic = "sites/{{ site }}/floor-{{floor}}"
workers = 10

[[things]]
name = "{{site}}-gw"
[things.metadata]
external_id = "placeholder"
site = "{{site}}"
floor = "{{floor}}"
where = "floor {{floor}} of {{site}}"
serial = "{{external_id}}"
registration = "{{registration_id}}"
[things.metadata.nested]
indoor = "{{indoor}}"
spare = "{{spare}}"
list = ["{{site}}", 1, "{{label}}"]

[[things]]
name = "exporter"
metadata = { role = "export", of = "{{name}}" }

[[channels]]
name = "{{site}}-control"
metadata = { type = "control" }

[[channels]]
name = "{{name}}-data"
metadata = { type = "data", floor = "{{floor}}" }
`;

describe(`named layouts (${dialect})`, () => {
  const fixture = withServer();
  const { request } = fixture;
  let alice: { email: string; token: string };
  let bob: { email: string; token: string };

  before(async () => {
    [alice, bob] = await Promise.all([userToken(request), userToken(request)]);
  });

  const create = (token: string | undefined, name: unknown, toml: unknown) =>
    request('POST', '/layouts', { token, body: { name, toml } });

  const totals = async (req: Request, token: string) => ({
    things: (await page(req, token, '/things?limit=1')).total as number,
    channels: (await page(req, token, '/channels?limit=1')).total as number,
    configs: (await page(req, token, '/things/configs?limit=1')).total as number,
  });

  describe('storing, reading, replacing, removing', () => {
    it('POST answers 201 with Location and the layout; GET, PUT and DELETE follow', async () => {
      const name = `plain-${uid()}`;
      const created = await create(alice.token, name, PLAIN);
      assert.equal(created.status, 201, created.text);
      assert.equal(created.headers.get('location'), `/layouts/${name}`);
      assert.deepEqual(created.json, { name, toml: PLAIN, parameters: [] });

      const got = await request('GET', `/layouts/${name}`, { token: alice.token });
      assert.equal(got.status, 200, got.text);
      assert.deepEqual(got.json, created.json);

      const changed = await request('PUT', `/layouts/${name}`, {
        token: alice.token,
        body: { toml: SENSOR },
      });
      assert.equal(changed.status, 200, changed.text);
      assert.equal(changed.json.toml, SENSOR);
      assert.deepEqual(changed.json.parameters, [
        {
          name: 'site',
          type: 'string',
          required: true,
          default: null,
          pattern: '^[a-z0-9-]{1,32}$',
          device: false,
        },
        { name: 'floor', type: 'integer', required: true, default: null, pattern: null, device: false },
        { name: 'indoor', type: 'boolean', required: false, default: true, pattern: null, device: false },
        { name: 'label', type: 'string', required: false, default: 'unnamed', pattern: null, device: true },
        { name: 'spare', type: 'integer', required: false, default: null, pattern: null, device: false },
      ]);
      assert.deepEqual((await request('GET', `/layouts/${name}`, { token: alice.token })).json, changed.json);

      const removed = await request('DELETE', `/layouts/${name}`, { token: alice.token });
      assert.equal(removed.status, 204, removed.text);
      assert.equal(removed.text, '');
      assertError(await request('GET', `/layouts/${name}`, { token: alice.token }), 404);
      assertError(await request('DELETE', `/layouts/${name}`, { token: alice.token }), 404);
      assertError(
        await request('PUT', `/layouts/${name}`, { token: alice.token, body: { toml: PLAIN } }),
        404,
        `layout ${name} does not exist`,
      );
    });

    it('names: a-z, 0-9, . _ - up to 64, else 400; a name used twice is 409', async () => {
      const name = `dup-${uid()}`;
      assert.equal((await create(alice.token, name, PLAIN)).status, 201);
      assertError(await create(alice.token, name, PLAIN), 409, `layout ${name} already exists`);
      for (const bad of ['', 'Upper', '-lead', '.lead', 'a/b', 'a b', 'é', 'x'.repeat(65)]) {
        const reply = await create(alice.token, bad, PLAIN);
        assertError(reply, 400);
        assert.match(reply.json.error, /layout name/);
      }
      assert.equal((await create(alice.token, `a.b_c-${'x'.repeat(50)}`, PLAIN)).status, 201);
      // The body's shape: both fields, strings.
      assertError(await request('POST', '/layouts', { token: alice.token, body: { name: 'x' } }), 400);
      assertError(await create(alice.token, 'x', 5), 400);
      assertError(await request('PUT', `/layouts/${name}`, { token: alice.token, body: {} }), 400);
      assertError(await create(alice.token, `big-${uid()}`, `# ${'x'.repeat(70_000)}\n${PLAIN}`), 400);
    });

    it('a user token or an API key; no or bad credentials: 403', async () => {
      const key = await request('POST', '/keys', { token: alice.token, body: { type: 2 } });
      assert.equal(key.status, 201, key.text);
      const name = `keyed-${uid()}`;
      assert.equal((await create(key.json.value, name, PLAIN)).status, 201);
      assert.equal((await request('GET', `/layouts/${name}`, { token: alice.token })).status, 200);
      assertError(await create(undefined, `x-${uid()}`, PLAIN), 403);
      assertError(await create('not-a-token', `x-${uid()}`, PLAIN), 403);
      assertError(await request('GET', '/layouts'), 403);
      assertError(await request('GET', '/layouts/default', { token: 'nope' }), 403);
      assertError(await request('DELETE', `/layouts/${name}`), 403);
    });

    it('pages: default first, then the caller’s layouts by name; limit 1..100', async () => {
      const user = await userToken(request);
      const names = ['m-3', 'a-1', 'z.9', 'b_2', 'a-10'];
      for (const name of names) assert.equal((await create(user.token, name, PLAIN)).status, 201);
      const byName = [...names].sort();
      const first = await page(request, user.token, '/layouts?limit=3');
      assert.deepEqual(Object.keys(first), ['total', 'offset', 'limit', 'layouts']);
      assert.deepEqual([first.total, first.offset, first.limit], [6, 0, 3]);
      assert.deepEqual(
        first.layouts.map((l: any) => l.name),
        ['default', ...byName.slice(0, 2)],
      );
      const second = await page(request, user.token, '/layouts?offset=3&limit=3');
      assert.deepEqual(
        second.layouts.map((l: any) => l.name),
        byName.slice(2),
      );
      assert.deepEqual((await page(request, user.token, '/layouts?offset=6')).layouts, []);
      const defaults = await page(request, user.token, '/layouts');
      assert.equal(defaults.limit, 10);
      assert.equal(defaults.layouts.length, 6);
      assert.deepEqual(Object.keys(defaults.layouts[1]), ['name', 'toml', 'parameters']);
      assert.deepEqual((await page(request, user.token, '/layouts?limit=1')).layouts.length, 1);
      for (const bad of ['limit=0', 'limit=101', 'limit=x', 'offset=-1', 'limit=1&limit=2']) {
        assertError(await request('GET', `/layouts?${bad}`, { token: user.token }), 400);
      }
    });

    it('a layout is its owner’s: another user neither sees nor changes it, and may use the same name', async () => {
      const name = `mine-${uid()}`;
      assert.equal((await create(alice.token, name, PLAIN)).status, 201);
      assertError(await request('GET', `/layouts/${name}`, { token: bob.token }), 404);
      assertError(
        await request('PUT', `/layouts/${name}`, { token: bob.token, body: { toml: SENSOR } }),
        404,
      );
      assertError(await request('DELETE', `/layouts/${name}`, { token: bob.token }), 404);
      const bobs = await page(request, bob.token, '/layouts?limit=100');
      assert.ok(!bobs.layouts.some((l: any) => l.name === name));
      // Still alice's, unchanged.
      assert.equal((await request('GET', `/layouts/${name}`, { token: alice.token })).json.toml, PLAIN);
      // Bob's own of the same name is another layout.
      const his = await create(bob.token, name, SENSOR);
      assert.equal(his.status, 201, his.text);
      assert.equal((await request('GET', `/layouts/${name}`, { token: alice.token })).json.toml, PLAIN);
      assert.equal((await request('GET', `/layouts/${name}`, { token: bob.token })).json.toml, SENSOR);
      // And /mapping cannot use another's layout.
      const before = await totals(request, bob.token);
      assertError(
        await request('POST', '/mapping', {
          token: bob.token,
          body: { external_id: `o-${uid()}`, external_key: 'k', layout: `only-alice-${uid()}` },
        }),
        404,
      );
      assert.deepEqual(await totals(request, bob.token), before);
    });
  });

  describe('default: the server’s layout', () => {
    it('every user sees it; nobody creates, replaces or removes it (JSON errors saying it is read-only)', async () => {
      for (const user of [alice, bob]) {
        const got = await request('GET', '/layouts/default', { token: user.token });
        assert.equal(got.status, 200, got.text);
        assert.equal(got.json.name, 'default');
        assert.deepEqual(got.json.parameters, []);
        // The built-in layout, as TOML.
        assert.match(got.json.toml, /\[\[things\]\]\nname = "thing"/);
        assert.match(got.json.toml, /name = "control-channel"/);
        const listed = await page(request, user.token, '/layouts?limit=1');
        assert.deepEqual(listed.layouts, [got.json]);
      }
      const posted = await create(alice.token, 'default', PLAIN);
      assertError(posted, 409);
      assert.match(posted.json.error, /read-only/);
      const put = await request('PUT', '/layouts/default', { token: alice.token, body: { toml: PLAIN } });
      assertError(put, 403);
      assert.match(put.json.error, /read-only/);
      const deleted = await request('DELETE', '/layouts/default', { token: alice.token });
      assertError(deleted, 403);
      assert.match(deleted.json.error, /read-only/);
    });

    it('a file with [server] and parameters: shown without [server]; /mapping fills its placeholders', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-default-layout-'));
      const file = path.join(dir, 'config.toml');
      fs.writeFileSync(
        file,
        `# the server's file
[server]
mf_user = "file-user@example.com"
mf_pass = "a-file-secret"

[parameters.room]
type = "string"
default = "lobby"

[[things]]
name = "gw-{{room}}"
metadata = { external_id = "x", room = "{{room}}" }

[[channels]]
name = "control"
metadata = { type = "control" }
`,
      );
      const other = await startServer({ MF_PROVISION_CONFIG_FILE: file });
      try {
        const req = client(other.url);
        const user = await userToken(req);
        const got = await req('GET', '/layouts/default', { token: user.token });
        assert.equal(got.status, 200, got.text);
        assert.doesNotMatch(got.json.toml, /a-file-secret|file-user|\[server\]/);
        assert.match(got.json.toml, /room/);
        assert.deepEqual(got.json.parameters, [
          { name: 'room', type: 'string', required: false, default: 'lobby', pattern: null, device: false },
        ]);
        const plain = await req('POST', '/mapping', {
          token: user.token,
          body: { external_id: `d-${uid()}`, external_key: 'k' },
        });
        assert.equal(plain.status, 201, plain.text);
        assert.equal(plain.json.things[0].name, 'gw-lobby');
        const named = await req('POST', '/mapping', {
          token: user.token,
          body: {
            external_id: `d-${uid()}`,
            external_key: 'k',
            layout: 'default',
            parameters: { room: 'hall' },
          },
        });
        assert.equal(named.status, 201, named.text);
        assert.equal(named.json.things[0].name, 'gw-hall');
        assert.equal(named.json.things[0].metadata.room, 'hall');
      } finally {
        await other.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('a bad layout: 400 naming the line and the problem', () => {
    /** The 400 and its message, for a layout under a fresh name. */
    async function refused(toml: string, pattern: RegExp) {
      const name = `bad-${uid()}`;
      const reply = await create(alice.token, name, toml);
      assertError(reply, 400);
      assert.match(reply.json.error, pattern);
      assert.ok(reply.json.error.startsWith(`layout ${name}`), reply.json.error);
      assertError(await request('GET', `/layouts/${name}`, { token: alice.token }), 404);
      return reply.json.error as string;
    }

    it('TOML syntax: the line and column', async () => {
      await refused('[[things]]\nname = "gw"\n[things.metadata\nexternal_id = "x"\n', /line 3, column \d+: /);
      await refused(`${PLAIN}\nname = "twice"\n[[channels]]\nname = 1 2\n`, /line (1[4-9]|2\d), column/);
    });

    it('sections and keys a named layout may not hold', async () => {
      await refused(`${PLAIN}\n[server]\nmf_pass = "x"\n`, /line 14: \[server\] holds the server's own/);
      await refused(`[servers]\nx = 1\n${PLAIN}`, /line 1: unknown section "servers"/);
      await refused(
        `[bootstrap]\nprovision = true\nautowhitelist = true\n${PLAIN}`,
        /line 3: \[bootstrap\] has no key "autowhitelist"/,
      );
      await refused(`[certs]\nkey_type = "ec"\n${PLAIN}`, /line 2: \[certs\] has no key "key_type"/);
      await refused(
        PLAIN.replace('name = "gw"', 'name = "gw"\nlabel = "x"'),
        /line 3: \[\[things\]\] has no key "label"/,
      );
    });

    it('values of the wrong kind, each at its line', async () => {
      await refused(`things = "x"\n[[channels]]\nname = "c"\n`, /line 1: "things" must be an array/);
      await refused(
        PLAIN.replace('name = "data"', 'name = 7'),
        /line 11: channels\[1\]\.name must be a string/,
      );
      await refused(`[certs]\nkeytype = "dsa"\n${PLAIN}`, /line 2: \[certs\] keytype must be "rsa" or "ec"/);
      await refused(
        `[certs]\nkeytype = "ec"\nkey_bits = 1024\n${PLAIN}`,
        /line 3: \[certs\] key_bits: 1024 is not a ec key size/,
      );
      await refused(`[certs]\ndays_valid = "forever"\n${PLAIN}`, /line 2: \[certs\] days_valid "forever"/);
      await refused(
        `[bootstrap]\nx509_provision = "yes"\n${PLAIN}`,
        /line 2: x509_provision must be true or false/,
      );
      await refused(`[bootstrap]\ncontent = 5\n${PLAIN}`, /line 2: \[bootstrap\.content\] must be a table/);
    });

    it('what /mapping could not use: no thing, no channel, two gateways', async () => {
      await refused('[[channels]]\nname = "c"\n', /at least one \[\[things\]\]/);
      await refused('[[things]]\nname = "t"\n', /at least one \[\[channels\]\]/);
      await refused(
        `${PLAIN}\n[[things]]\nname = "second"\n[things.metadata]\nexternal_id = "y"\n`,
        /line 1[4-7]: only one thing may carry external_id/,
      );
    });

    it('parameter declarations', async () => {
      const decl = (body: string) => `${PLAIN}\n[parameters.p]\n${body}\n`;
      // PLAIN has 12 lines and a blank one follows: the declaration starts at line 14.
      await refused(decl(''), /line 14: \[parameters\.p\] type must be/);
      await refused(
        decl('type = "float"'),
        /line 15: \[parameters\.p\] type must be "string", "integer" or "boolean"/,
      );
      await refused(
        decl('type = "string"\nrequired = "yes"'),
        /line 16: \[parameters\.p\] required must be true or false/,
      );
      await refused(
        decl('type = "string"\ndevice = 1'),
        /line 16: \[parameters\.p\] device must be true or false/,
      );
      await refused(
        decl('type = "integer"\npattern = "^1$"'),
        /line 16: .*pattern applies to string parameters only/,
      );
      await refused(decl('type = "string"\npattern = "(["'), /line 16: .*pattern does not compile/);
      await refused(
        decl('type = "string"\npattern = "^(a+)+$"'),
        /line 16: .*pattern repeats a group that holds a repetition/,
      );
      await refused(decl("type = 'string'\npattern = '^([a-z]\\w*-)*x$'"), /line 16: .*exponential time/);
      await refused(decl('type = "string"\npattern = 5'), /line 16: .*pattern must be a string/);
      await refused(decl('type = "integer"\ndefault = "1"'), /line 16: .*default must be an integer/);
      await refused(decl('type = "boolean"\ndefault = 1'), /line 16: .*default must be true or false/);
      await refused(
        decl('type = "string"\npattern = "^[a-z]+$"\ndefault = "A1"'),
        /line 17: .*default "A1" does not match the pattern/,
      );
      await refused(
        decl('type = "string"\nrequired = true\ndefault = "a"'),
        /line 17: .*a required parameter has no default/,
      );
      await refused(decl('type = "string"\nmin = 1'), /line 16: .*has no key "min"/);
      await refused(
        `${PLAIN}\n[parameters.name]\ntype = "string"\n`,
        /line 14: .*"name" is a built-in placeholder/,
      );
      await refused(`${PLAIN}\n[parameters."9lives"]\ntype = "string"\n`, /parameter name is a letter or _/);
      await refused(`${PLAIN}\n[parameters]\np = 5\n`, /line 15: \[parameters\.p\] must be a table/);
      await refused(`parameters = 5\n${PLAIN}`, /line 1: "parameters" must be a table of tables/);
      // Inline declarations are found too.
      await refused(
        `${PLAIN}\n[parameters]\nq = { type = "text" }\n`,
        /line 15: \[parameters\.q\] type must be/,
      );
    });

    it('a placeholder naming no declared parameter: its name and line', async () => {
      await refused(
        PLAIN.replace('name = "data"', 'name = "data-{{ sitee }}"'),
        /line 11: placeholder \{\{sitee\}\} names no parameter: declare \[parameters\.sitee\]/,
      );
      await refused(
        `[parameters.site]\ntype = "string"\n${PLAIN.replace('type = "data"', 'type = "data", deep = { x = ["{{site}}", "{{floor}}"] }')}`,
        /line 14: placeholder \{\{floor\}\}/,
      );
      await refused(`[bootstrap.content]\nurl = "{{host}}"\n${PLAIN}`, /line 2: placeholder \{\{host\}\}/);
      // Not placeholders: left as they are.
      const name = `braces-${uid()}`;
      const ok = await create(
        alice.token,
        name,
        `[bootstrap.content]\nt = "{{ .Value }} {{}} {x}"\n${PLAIN}`,
      );
      assert.equal(ok.status, 201, ok.text);
    });
  });

  describe('/mapping with a named layout', () => {
    const sensor = `sensor-${uid()}`;
    before(async () => {
      const reply = await create(alice.token, sensor, SENSOR);
      assert.equal(reply.status, 201, reply.text);
    });

    const mapping = (token: string, body: Record<string, unknown>) =>
      request('POST', '/mapping', {
        token,
        body: { external_id: `gw-${uid()}`, external_key: 'k', ...body },
      });

    it('every refused parameter: 400 naming it, and nothing is written', async () => {
      const before = await totals(request, alice.token);
      const cases: [Record<string, unknown>, number, RegExp][] = [
        [
          { layout: sensor, parameters: { floor: 2 } },
          400,
          /^parameter "site" is required by layout sensor-/,
        ],
        [{ layout: sensor, parameters: { site: 'a' } }, 400, /^parameter "floor" is required/],
        [{ layout: sensor }, 400, /^parameter "site" is required/],
        [
          { layout: sensor, parameters: { site: 'a', floor: 2, colour: 'red' } },
          400,
          /^unknown parameter "colour": layout sensor-\w+ declares only site, floor, indoor, label, spare$/,
        ],
        [
          { layout: sensor, parameters: { site: 'a', floor: '2' } },
          400,
          /^parameter "floor" must be an integer$/,
        ],
        [
          { layout: sensor, parameters: { site: 'a', floor: 2.5 } },
          400,
          /^parameter "floor" must be an integer$/,
        ],
        [
          { layout: sensor, parameters: { site: 'a', floor: 2, indoor: 'true' } },
          400,
          /^parameter "indoor" must be true or false$/,
        ],
        [{ layout: sensor, parameters: { site: 5, floor: 2 } }, 400, /^parameter "site" must be a string$/],
        [
          { layout: sensor, parameters: { site: 'Plant A', floor: 2 } },
          400,
          /^parameter "site" does not match its pattern \^\[a-z0-9-\]\{1,32\}\$$/,
        ],
        [
          { layout: sensor, parameters: { site: 'a', floor: 2, label: 'x'.repeat(1025) } },
          400,
          /^parameter "label" is longer than 1024 bytes$/,
        ],
        [
          { layout: sensor, parameters: { site: 'a', floor: 2, spare: { n: 1 } } },
          400,
          /^parameter "spare" must be an integer$/,
        ],
        // The server's layout declares none.
        [
          { parameters: { site: 'a' } },
          400,
          /^unknown parameter "site": layout default declares no parameters$/,
        ],
        [{ layout: 'default', parameters: { site: 'a' } }, 400, /^unknown parameter "site"/],
        [
          { layout: `missing-${uid()}`, parameters: { site: 'a' } },
          404,
          /^layout missing-\w+ does not exist$/,
        ],
        [{ layout: 'Not A Name' }, 404, /^layout does not exist$/],
      ];
      for (const [body, status, message] of cases) {
        const reply = await mapping(alice.token, body);
        assertError(reply, status);
        assert.match(reply.json.error, message, JSON.stringify(body));
      }
      // The body's shape: parameters is an object, layout a string.
      assertError(await mapping(alice.token, { layout: sensor, parameters: ['a'] }), 400);
      assertError(await mapping(alice.token, { layout: 5 }), 400);
      assert.deepEqual(await totals(request, alice.token), before);
    });

    it('things, channels, connections and the fetched config carry the values, typed where a value is one placeholder', async () => {
      const externalId = `gw-${uid()}`;
      const reply = await request('POST', '/mapping', {
        token: alice.token,
        body: {
          external_id: externalId,
          external_key: 'gw-secret',
          name: 'edge',
          layout: sensor,
          parameters: { site: 'plant-a', floor: 3, indoor: false, spare: null },
        },
      });
      assert.equal(reply.status, 201, reply.text);
      const { things, channels, whitelisted } = reply.json;
      assert.deepEqual(
        things.map((t: any) => t.name),
        // A templated name stays the layout's; a plain one takes the request's name (as 0.12.1).
        ['plant-a-gw', 'edge'],
      );
      const [gateway, exporter] = things;
      assert.deepEqual(gateway.metadata, {
        external_id: externalId,
        site: 'plant-a',
        floor: 3,
        where: 'floor 3 of plant-a',
        serial: externalId,
        registration: '',
        nested: { indoor: false, spare: 0, list: ['plant-a', 1, 'unnamed'] },
      });
      assert.deepEqual(exporter.metadata, { role: 'export', of: 'edge' });
      assert.deepEqual(
        channels.map((c: any) => [c.name, c.metadata]),
        [
          ['plant-a-control', { type: 'control' }],
          ['edge-data', { type: 'data', floor: 3 }],
        ],
      );
      assert.deepEqual(whitelisted, { [gateway.id]: true });

      // The gateway fetches its config: the content with its values, keys sorted.
      const fetched = await request('GET', `/things/bootstrap/${externalId}`, {
        headers: { authorization: 'gw-secret' },
      });
      assert.equal(fetched.status, 200, fetched.text);
      assert.equal(fetched.json.mainflux_id, gateway.id);
      assert.equal(fetched.json.mainflux_key, gateway.key);
      assert.deepEqual(sorted(ids(fetched.json.mainflux_channels)), sorted(ids(channels)));
      assert.equal(
        fetched.json.content,
        '{"agent":{"floor":3,"indoor":false,"site":"plant-a","untouched":"{{ .Value }}","url":"mqtts://plant-a.example.com:8883"},' +
          '"routes":[{"topic":"sites/plant-a/floor-3","workers":10}]}',
      );
      // Connected to both channels: it may publish on them.
      assert.deepEqual(
        sorted(ids(await listAll(request, alice.token, `/things/${gateway.id}/channels`, 'channels'))),
        sorted(ids(channels)),
      );
      const published = await request('POST', `/http/channels/${channels[1].id}/messages`, {
        token: gateway.key,
        raw: '[{"n":"t","v":1}]',
        contentType: 'application/senml+json',
      });
      assert.equal(published.status, 202, published.text);
      // The stored gateway metadata: the substituted values plus the gateway's.
      const stored = await request('GET', `/things/${gateway.id}`, { token: alice.token });
      assert.equal(stored.json.metadata.site, 'plant-a');
      assert.equal(stored.json.metadata.type, 'gateway');
      assert.equal(stored.json.metadata.ctrl_channel_id, channels[0].id);
    });

    it('without a name, {{name}} is the external id; defaults fill what is not given', async () => {
      const externalId = `gw-${uid()}`;
      const reply = await request('POST', '/mapping', {
        token: alice.token,
        body: {
          external_id: externalId,
          external_key: 'k',
          layout: sensor,
          parameters: { site: 's1', floor: -1 },
        },
      });
      assert.equal(reply.status, 201, reply.text);
      assert.deepEqual(
        reply.json.things.map((t: any) => t.name),
        ['s1-gw', 'exporter'],
      );
      assert.equal(reply.json.things[1].metadata.of, externalId);
      assert.equal(reply.json.channels[1].name, `${externalId}-data`);
      assert.deepEqual(reply.json.things[0].metadata.nested, {
        indoor: true,
        spare: 0,
        list: ['s1', 1, 'unnamed'],
      });
    });

    it('a named layout’s [bootstrap] and [certs] apply: an EC certificate for each thing', async () => {
      const name = `certified-${uid()}`;
      const created = await create(
        alice.token,
        name,
        `[bootstrap]\nx509_provision = true\n[certs]\nkeytype = "ec"\nkey_bits = 256\ndays_valid = "24h"\n${PLAIN}`,
      );
      assert.equal(created.status, 201, created.text);
      const reply = await mapping(alice.token, { layout: name });
      assert.equal(reply.status, 201, reply.text);
      const [thing] = reply.json.things;
      assert.match(reply.json.client_cert[thing.id], /BEGIN CERTIFICATE/);
      assert.match(reply.json.client_key[thing.id], /BEGIN (EC )?PRIVATE KEY/);
      assert.match(reply.json.ca_cert, /BEGIN CERTIFICATE/);
      // The server's layout still issues none.
      const plain = await mapping(alice.token, {});
      assert.equal(plain.status, 201, plain.text);
      assert.equal(plain.json.client_cert, undefined);
    });

    it('a failure at any step of a named layout’s /mapping leaves nothing; the same request then works', async () => {
      const user = await userToken(request);
      const name = `atomic-${uid()}`;
      assert.equal((await create(user.token, name, SENSOR)).status, 201);
      const provision = fixture.server.app.services.provision;
      for (const step of ['channels', 'things', 'config', 'whitelist'] as const) {
        const body = {
          external_id: `fail-${step}-${uid()}`,
          external_key: 'k',
          layout: name,
          parameters: { site: 'atomic', floor: 1 },
        };
        provision.beforeStep = (s) => {
          if (s === step) throw new Error('injected');
        };
        try {
          assertError(await request('POST', '/mapping', { token: user.token, body }), 500);
        } finally {
          provision.beforeStep = undefined;
        }
        assert.deepEqual(await totals(request, user.token), { things: 0, channels: 0, configs: 0 }, step);
        const again = await request('POST', '/mapping', { token: user.token, body });
        assert.equal(again.status, 201, again.text);
        for (const thing of again.json.things) {
          await request('DELETE', `/things/${thing.id}`, { token: user.token });
        }
        for (const channel of again.json.channels) {
          await request('DELETE', `/channels/${channel.id}`, { token: user.token });
        }
      }
    });

    it('a layout changed or removed: /mapping uses what is stored now', async () => {
      const name = `moving-${uid()}`;
      assert.equal((await create(alice.token, name, PLAIN)).status, 201);
      const first = await mapping(alice.token, { layout: name });
      assert.equal(first.json.things[0].name, 'gw');
      await request('PUT', `/layouts/${name}`, {
        token: alice.token,
        body: { toml: PLAIN.replace('name = "gw"', 'name = "gw-{{external_id}}"') },
      });
      const externalId = `gw-${uid()}`;
      const second = await request('POST', '/mapping', {
        token: alice.token,
        body: { external_id: externalId, external_key: 'k', layout: name, name: 'ignored' },
      });
      assert.equal(second.json.things[0].name, `gw-${externalId}`);
      await request('DELETE', `/layouts/${name}`, { token: alice.token });
      assertError(await mapping(alice.token, { layout: name }), 404);
    });
  });
  describe('the SDK and the CLI', () => {
    it('SDK: layouts.create/get/list/all/update/remove, provision with a layout and parameters', async () => {
      const me = new Tethys({ url: fixture.server.url, token: alice.token, fetch: recordingFetch });
      const name = `sdk-${uid()}`;
      const created = await me.layouts.create(name, SENSOR);
      assert.equal(created.name, name);
      assert.deepEqual(
        created.parameters.map((p) => [p.name, p.type]),
        [
          ['site', 'string'],
          ['floor', 'integer'],
          ['indoor', 'boolean'],
          ['label', 'string'],
          ['spare', 'integer'],
        ],
      );
      assert.deepEqual(await me.layouts.get(name), created);
      assert.equal((await me.layouts.get('default')).name, 'default');
      const first = await me.layouts.list({ limit: 1 });
      assert.deepEqual(
        first.layouts.map((l) => l.name),
        ['default'],
      );
      const every: string[] = [];
      for await (const layout of me.layouts.all()) every.push(layout.name);
      assert.equal(every[0], 'default');
      assert.ok(every.includes(name));
      assert.equal(every.length, first.total);

      const externalId = `sdk-${uid()}`;
      const provisioned = await me.provision(externalId, 'k', {
        name: 'edge',
        layout: name,
        parameters: { site: 'sdk-site', floor: 7 },
      });
      assert.equal(provisioned.things[0]!.name, 'sdk-site-gw');
      assert.equal(provisioned.things[0]!.metadata?.floor, 7);
      // The former signature still works: the server's layout and a name.
      const plain = await me.provision(`sdk-${uid()}`, 'k', 'edge');
      assert.equal(plain.things[0]!.name, 'edge');
      await assert.rejects(
        me.provision(`sdk-${uid()}`, 'k', { layout: name, parameters: { floor: 1 } }),
        (err) => {
          assert.ok(err instanceof TethysError);
          assert.equal(err.status, 400);
          assert.match(err.message, /parameter "site" is required/);
          return true;
        },
      );

      const updated = await me.layouts.update(name, PLAIN);
      assert.deepEqual(updated, { name, toml: PLAIN, parameters: [] });
      await me.layouts.remove(name);
      await assert.rejects(me.layouts.get(name), (err) => err instanceof TethysError && err.status === 404);
      await assert.rejects(
        me.layouts.create(`sdk-${uid()}`, '[[things]\n'),
        (err) => err instanceof TethysError && err.status === 400 && /line 1, column/.test(err.message),
      );
    });

    it('CLI: layouts list|get|create|update|delete, provision --layout --param', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-cli-layouts-'));
      const tethys = (args: string[], env: Record<string, string> = {}) =>
        runCli(args, { TETHYS_URL: fixture.server.url, TETHYS_TOKEN: alice.token, ...env });
      try {
        const sensorFile = path.join(dir, 'sensor.toml');
        const plainFile = path.join(dir, 'plain.toml');
        const brokenFile = path.join(dir, 'broken.toml');
        fs.writeFileSync(sensorFile, SENSOR);
        fs.writeFileSync(plainFile, PLAIN);
        fs.writeFileSync(brokenFile, '[[things]]\nname = "gw"\n[things.metadata\n');
        const name = `cli-${uid()}`;

        const created = await tethys(['layouts', 'create', name, sensorFile]);
        assert.equal(created.code, 0, created.stderr);
        assert.equal(created.json.name, name);
        assert.equal(created.json.parameters.length, 5);

        const [got, toml, listed, broken, missing] = await Promise.all([
          tethys(['layouts', 'get', name]),
          tethys(['layouts', 'get', name, '--toml']),
          tethys(['layouts', 'list', '--limit', '100']),
          tethys(['layouts', 'create', `cli-${uid()}`, brokenFile]),
          tethys(['layouts', 'create', `cli-${uid()}`, path.join(dir, 'nope.toml')]),
        ]);
        assert.equal(got.code, 0, got.stderr);
        assert.deepEqual(got.json, created.json);
        assert.equal(toml.stdout, SENSOR);
        assert.equal(listed.code, 0, listed.stderr);
        assert.equal(listed.json.layouts[0].name, 'default');
        assert.ok(listed.json.layouts.some((l: any) => l.name === name));
        assert.equal(broken.code, 1);
        assert.match(broken.stderr, /^error: 400 layout cli-\w+ line 3, column \d+: .*\(POST \/layouts\)\n$/);
        assert.equal(missing.code, 1);
        assert.match(missing.stderr, /nope\.toml: no such file/);

        // --param values typed as the layout declares them.
        const externalId = `cli-${uid()}`;
        const provisioned = await tethys([
          'provision',
          externalId,
          'cli-secret',
          '--layout',
          name,
          '--param',
          'site=plant-c',
          '--param',
          'floor=4',
          '--param',
          'indoor=false',
          '--param',
          'label:="door"',
        ]);
        assert.equal(provisioned.code, 0, provisioned.stderr);
        const [gateway] = provisioned.json.things;
        assert.equal(gateway.name, 'plant-c-gw');
        assert.equal(gateway.metadata.floor, 4);
        assert.deepEqual(gateway.metadata.nested, { indoor: false, spare: 0, list: ['plant-c', 1, 'door'] });
        const fetched = await tethys(['bootstrap', 'fetch', externalId, 'cli-secret']);
        assert.equal(fetched.code, 0, fetched.stderr);
        assert.match(fetched.json.content, /"floor":4/);

        const [notInteger, noValue, twice, refused] = await Promise.all([
          tethys([
            'provision',
            `cli-${uid()}`,
            'k',
            '--layout',
            name,
            '--param',
            'site=a',
            '--param',
            'floor=x',
          ]),
          tethys(['provision', `cli-${uid()}`, 'k', '--layout', name, '--param', 'site']),
          tethys(['provision', `cli-${uid()}`, 'k', '--param', 'a=1', '--param', 'a=2']),
          tethys(['provision', `cli-${uid()}`, 'k', '--layout', name, '--param', 'floor=1']),
        ]);
        assert.equal(notInteger.code, 2, notInteger.stderr);
        assert.match(notInteger.stderr, /--param floor: the layout declares an integer/);
        assert.equal(noValue.code, 2);
        assert.equal(twice.code, 2);
        assert.match(twice.stderr, /"a" is given twice/);
        assert.equal(refused.code, 1);
        assert.match(refused.stderr, /^error: 400 parameter "site" is required/);

        const updated = await tethys(['layouts', 'update', name, plainFile]);
        assert.equal(updated.code, 0, updated.stderr);
        assert.deepEqual(updated.json.parameters, []);
        const removed = await tethys(['layouts', 'delete', name]);
        assert.equal(removed.code, 0, removed.stderr);
        assert.equal(removed.stdout, '');
        const gone = await tethys(['layouts', 'get', name]);
        assert.equal(gone.code, 1);
        assert.match(gone.stderr, /^error: 404 layout cli-\w+ does not exist/);
        const readOnly = await tethys(['layouts', 'delete', 'default']);
        assert.equal(readOnly.code, 1);
        assert.match(readOnly.stderr, /403 .*read-only/);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
