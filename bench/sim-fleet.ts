// A fleet of RouterOS simulators in its own process (real routers do not share the
// server's CPU). Driven over IPC by fleet.ts: it reports the ports, counts every command
// and write each simulator executes, and can mark a peer's handshake fresh.
import { startRouterOsSimulator, type RouterOsSimulator } from '../server/test/sim/routeros/index.js';

const WRITE = /\/(add|set|remove|unset|enable|disable|move)$/;
const count = Number(process.argv[2] ?? 1);
/** "up": a tunnel comes up (fresh handshake) as soon as its peer is added. */
const upOnAdd = process.argv[3] === 'up';

const sims: RouterOsSimulator[] = [];
const counters = Array.from({ length: count }, () => ({ commands: 0, writes: 0 }));
for (let i = 0; i < count; i++) {
  const sim = await startRouterOsSimulator({ password: `bench-${i}` });
  const counter = counters[i] as { commands: number; writes: number };
  const execute = sim.model.execute.bind(sim.model);
  sim.model.execute = (request) => {
    counter.commands++;
    if (WRITE.test(request.command)) counter.writes++;
    const result = execute(request);
    const key = request.attributes?.['public-key'];
    if (upOnAdd && request.command === '/interface/wireguard/peers/add' && key) sim.setHandshake(key, 0);
    return result;
  };
  sims.push(sim);
}

type Message = { id: number; op: 'counts' | 'reset' | 'stop' } | { id: number; op: 'handshake'; sim: number; publicKey: string; secondsAgo: number }
  | { id: number; op: 'seed'; sim: number; interfaceName: string; publicKeys: string[] };

process.on('message', async (message: Message) => {
  let result: unknown = null;
  try {
    if (message.op === 'counts') result = counters;
    else if (message.op === 'reset') for (const c of counters) { c.commands = 0; c.writes = 0; }
    else if (message.op === 'handshake') sims[message.sim]?.setHandshake(message.publicKey, message.secondsAgo);
    else if (message.op === 'seed') {
      // WireGuard peers written straight into the model (as a deploy would leave them).
      const model = (sims[message.sim] as RouterOsSimulator).model;
      model.execute({ command: '/interface/wireguard/add', attributes: { name: message.interfaceName, 'listen-port': '51820' } });
      message.publicKeys.forEach((publicKey, i) => model.execute({
        command: '/interface/wireguard/peers/add',
        attributes: { interface: message.interfaceName, 'public-key': publicKey, 'allowed-address': `10.0.${(i + 2) >> 8}.${(i + 2) & 255}/32` },
      }));
    }
    else if (message.op === 'stop') {
      await Promise.all(sims.map((sim) => sim.stop()));
      process.send?.({ id: message.id, result: null }, () => process.exit(0));
      return;
    }
    process.send?.({ id: message.id, result });
  } catch (error) {
    process.send?.({ id: message.id, error: (error as Error).message });
  }
});
process.send?.({ ready: sims.map((sim) => ({ host: sim.host, apiPort: sim.apiPort, restPort: sim.restPort, username: sim.username, password: sim.password })) });
// Never outlive the bench that started us.
process.on('disconnect', () => process.exit(0));
