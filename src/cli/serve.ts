import type { Command } from 'commander';
import type { App } from '../app.js';
import { type Config, ConfigError, describeVariables, loadConfig } from '../config.js';

export function serveCommand(program: Command): void {
  program
    .command('serve')
    .description('run the platform: HTTP API and console on TETHYS_HTTP_PORT, MQTT on TETHYS_MQTT_PORT')
    .addHelpText('after', `\nEnvironment variables:\n${describeVariables()}\n`)
    .action(async () => {
      let config: Config;
      try {
        config = loadConfig();
      } catch (err) {
        if (err instanceof ConfigError) {
          console.error(`tethys: configuration error: ${err.message}`);
          process.exit(2);
        }
        throw err;
      }
      // Loaded here, not at the top: client commands start without the server's modules.
      const { buildApp } = await import('../app.js');
      const { LayoutError } = await import('../provision/layout.js');
      let app: App;
      try {
        app = await buildApp(config);
      } catch (err) {
        if (err instanceof LayoutError) {
          console.error(`tethys: provision layout error: ${err.message}`);
          process.exit(2);
        }
        if (err instanceof ConfigError) {
          console.error(`tethys: configuration error: ${err.message}`);
          process.exit(2);
        }
        throw err;
      }
      const address = await app.http.listen({ port: config.http.port, host: config.http.host });
      app.logger.info({ address, database: app.services.db.dialect }, 'tethys is listening');
      let closing = false;
      const stop = async (signal: string) => {
        if (closing) return;
        closing = true;
        app.logger.info({ signal }, 'shutting down');
        await app.close();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
    });
}
