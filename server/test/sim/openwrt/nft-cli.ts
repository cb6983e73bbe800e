// /usr/sbin/nft as `file.exec` runs it, for the one question a driver asks: is this chain of
// an include loaded in fw4's table (`nft list chain inet fw4 <name>`, exit 0 with the chain).
import type { OpenWrtModel } from './model.js';
import type { ExecResult } from './wg-cli.js';

export function runNft(model: OpenWrtModel, params: string[]): ExecResult {
  const [list, chain, family, table, name, ...extra] = params;
  if (list !== 'list' || chain !== 'chain' || name === undefined || extra.length > 0) return { code: 1, stdout: '', stderr: 'Error: syntax error\n' };
  if (family !== 'inet' || table !== 'fw4') return { code: 1, stdout: '', stderr: `Error: No such file or directory\nlist chain ${family} ${table} ${name}\n` };
  const text = model.runtime.nftChain(name);
  if (text === null) {
    const line = `list chain inet fw4 ${name}`;
    return { code: 1, stdout: '', stderr: `Error: No such file or directory\n${line}\n${' '.repeat(line.length - name.length)}${'^'.repeat(name.length)}\n` };
  }
  return { code: 0, stdout: text, stderr: '' };
}
