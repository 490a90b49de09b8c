#!/usr/bin/env node
import { Command } from 'commander';
import { registerClientCommands } from './cli/commands.js';
import { serveCommand } from './cli/serve.js';
import { TETHYS_VERSION } from './version.js';

const program = new Command();
program
  .name('tethys')
  .description('Tethys: IoT platform core speaking the Mainflux 0.12 HTTP API')
  .version(TETHYS_VERSION);
serveCommand(program);
registerClientCommands(program);
await program.parseAsync(process.argv);
