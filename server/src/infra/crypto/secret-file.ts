// A secret generated into the data directory on first start (master key, /metrics token):
// created 0600 and exclusively ('wx'), so a second process starting on the same directory at
// the same moment reads the first one's secret instead of replacing it.
import fs from 'node:fs';
import path from 'node:path';

export function readOrCreateSecretFile(file: string, generate: () => string): { text: string; created: boolean } {
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    try {
      fs.writeFileSync(file, generate(), { mode: 0o600, flag: 'wx' });
      return { text: fs.readFileSync(file, 'utf8'), created: true };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return { text: fs.readFileSync(file, 'utf8'), created: false };
}
