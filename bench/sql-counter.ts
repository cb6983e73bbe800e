// Preloaded into a spawned server (`node --import`) when a bench asks for SQL statement counts:
// counts with the tests' instrumentation (server/test/support/sql-statements.ts) and answers
// the parent's 'sql-statements' message on the IPC channel with the count so far. Bundled to
// plain JavaScript by server-process.ts, so the server runs without a TypeScript loader (whose
// second isolate would add to the RSS the benches measure).
import { instrumentSql, sql } from '../server/test/support/sql-statements.js';

instrumentSql();
process.on('message', (message) => {
  if (message === 'sql-statements') process.send?.({ sqlStatements: sql.statements });
});
// The channel must not keep the server alive after it has stopped serving.
process.channel?.unref();
