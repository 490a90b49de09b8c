import type { Command } from 'commander';
import type { App } from '../app.js';
import { type Config, ConfigError, describeVariables, loadConfig, unknownVariables } from '../config.js';

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
      const listening = await app.http.listen({ port: config.http.port, host: config.http.host });
      // fastify names the address http:// whatever the server speaks.
      const address = config.tls.cert ? listening.replace(/^http:/, 'https:') : listening;
      app.logger.info({ address, database: app.services.db.dialect }, 'tethys is listening');
      for (const { name, meant } of unknownVariables()) {
        app.logger.warn(
          { variable: name },
          `${name} is no setting of Tethys${meant ? ` (${meant}?)` : ''}: ignored`,
        );
      }
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) {
          app.logger.warn({ signal }, 'second signal: stopping at once');
          process.exit(1);
        }
        stopping = true;
        const timeoutMs = config.shutdownTimeoutMs;
        app.logger.info({ signal, timeoutMs }, 'shutting down: finishing requests in flight');
        // Whatever hangs (a database that does not answer a close), the process ends in time.
        setTimeout(() => {
          app.logger.error({ timeoutMs }, 'shutdown took too long: stopping at once');
          process.exit(1);
        }, timeoutMs + 1000).unref();
        try {
          await app.shutdown(timeoutMs);
          app.logger.info('stopped');
          app.logger.flush();
          process.exit(0);
        } catch (err) {
          app.logger.error({ err }, 'shutdown failed');
          process.exit(1);
        }
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
    });
}
