// A ping that runs while something else happens (`ping -n -i 0.2`, one echo every 200 ms), and
// what it counted when stopped. Lost = the echoes between the first and the last one answered
// that got no answer (icmp_seq gaps): the one in flight when ping is stopped is not a loss. ping's
// own summary (SIGINT makes iputils print it) is kept for the output.
import type { Lab, Where } from './harness.js';

export interface PingCount {
  /** Echoes from the first to the last one answered. */
  sent: number;
  received: number;
  lost: number;
  /** The summary line as ping printed it, for the test's output. */
  summary: string;
}

export interface ContinuousPing {
  /** Waits for `replies` more echo replies (a tunnel that carries packets right now). */
  waitForReplies(replies: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<PingCount>;
}

export async function startPing(lab: Lab, site: string, ip: string, where: Where = 'lan'): Promise<ContinuousPing> {
  const proc = lab.spawn(site, ['ping', '-n', '-i', '0.2', ip], { where });
  const replies = (): number => (proc.output().match(/ bytes from /g) ?? []).length;
  const waitForReplies = async (count: number, timeoutMs = 15_000): Promise<void> => {
    const target = replies() + count;
    const deadline = Date.now() + timeoutMs;
    while (replies() < target) {
      if (Date.now() > deadline) throw new Error(`ping ${ip} from ${site}: ${count} replies not seen within ${timeoutMs} ms:\n${proc.output().split('\n').slice(-10).join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  await waitForReplies(1);
  return {
    waitForReplies,
    async stop() {
      // `ip netns exec` execs ping: the PID is ping's own.
      process.kill(proc.pid, 'SIGINT');
      await proc.waitForOutput(/packets transmitted/);
      await proc.kill();
      const summary = /\d+ packets transmitted, \d+ received[^\n]*/.exec(proc.output());
      if (!summary) throw new Error(`ping printed no summary:\n${proc.output()}`);
      const seqs = new Set([...proc.output().matchAll(/ bytes from [^\n]* icmp_seq=(\d+)/g)].map((match) => Number(match[1])));
      // From the first answered echo (start() waited for it, before anything under test began).
      const sent = seqs.size === 0 ? 0 : Math.max(...seqs) - Math.min(...seqs) + 1;
      return { sent, received: seqs.size, lost: sent - seqs.size, summary: summary[0] };
    },
  };
}
