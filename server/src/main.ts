// `npm start`: builds the app from the environment and serves it until SIGINT/SIGTERM.
import { buildApp } from './app.js';
import { createLogger } from './infra/logger.js';

const log = createLogger();
const app = await buildApp({ logger: log });
const { url, graphqlUrl } = await app.start();
log.info({ url, graphqlUrl }, 'Meshplane is running');
console.log(`\n  Meshplane is running: ${url}  (GraphQL: ${graphqlUrl})\n`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    app.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  });
}
