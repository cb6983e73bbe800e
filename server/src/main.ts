// `npm start`: builds the app from the environment and serves it until SIGINT/SIGTERM.
import { buildApp } from './app.js';
import { ConfigFileError } from './devices/config-file.js';
import { LdapConfigError } from './services/auth/ldap-config.js';
import { OidcConfigError } from './services/auth/oidc-config.js';
import { createLogger } from './infra/logger.js';
import { scrapeConfigHint } from './infra/metrics-token.js';

const log = createLogger();
// A mistake in the configuration is the operator's to fix: say it in one line, not a stack trace.
const app = await buildApp({ logger: log }).catch((error: unknown) => {
  if (error instanceof ConfigFileError || error instanceof OidcConfigError || error instanceof LdapConfigError) {
    console.error(`\n  Meshplane did not start: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
});
const { url, graphqlUrl } = await app.start();
log.info({ url, graphqlUrl }, 'Meshplane is running');
console.log(`\n  Meshplane is running: ${url}  (GraphQL: ${graphqlUrl})\n`);
// The token itself goes to the console once, on the start that generated it, and never into the
// log; later starts name the file it is kept in.
if (app.metricsToken.created) console.log(`  /metrics scrape token (shown this once): ${app.metricsToken.token}`);
console.log(`${scrapeConfigHint(app.metricsToken, url)}\n`);

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
