// `npm run bench -- side-by-side`: the workload issue 21 measured against wg-easy v15.2.2,
// replayed against Meshplane with the same client shape: one request at a time, a fresh server
// (child process, `npm start`'s way, its own data directory and SQLite) and one WAN per size.
// Create N client peers one after another, download every client's wg-quick config one after
// another without the QR code, then a few with the QR selected; the server's RSS after each.
// wg-easy's figures are printed beside ours as constants taken from the issue, not measured here.
import { GraphQLTestClient, registerAdmin } from '../server/test/support/graphql.js';
import { ADD_PEER, createWan } from './app.js';
import { loadAverage, percentile, report, round, sample, spread, withTimeout, type Metric } from './lib.js';
import { spawnServer, type ServerProcess } from './server-process.js';

const SIZES = [250, 1000];
const QR_DOWNLOADS = 5;
/** Per size: the creates and the downloads each give up (failing the bench) after this long. */
const PHASE_LIMIT_MS = 300_000;

/** What the issue reports for wg-easy v15.2.2 on this kind of machine (not measured here). */
const WG_EASY = { create1000Seconds: 684, downloadP50At1000Ms: 4.9, rssMb: 153, wireguardGoRssMb: 54 };
/** The memory target after 1,000 creates and downloads. */
const RSS_TARGET_MB = 190;

const DOWNLOAD = `mutation ($peerId: ID!) { downloadPeerConfig(peerId: $peerId) { filename content } }`;
const DOWNLOAD_QR = `mutation ($peerId: ID!) { downloadPeerConfig(peerId: $peerId) { filename content qrSvg qrPngBase64 } }`;

async function download(admin: GraphQLTestClient, query: string, peerId: string): Promise<{ content: string; qrSvg?: string | null }> {
  const data = await admin.ok<{ downloadPeerConfig: { content: string; qrSvg?: string | null } }>(query, { peerId });
  if (!data.downloadPeerConfig.content.includes('[Interface]')) throw new Error('download without an [Interface] section');
  return data.downloadPeerConfig;
}

async function measure(size: number): Promise<Metric[]> {
  const bench = `side-by-side`;
  const at = `N = ${size.toLocaleString('en')}`;
  let server: ServerProcess | null = null;
  try {
    server = await spawnServer();
    const rssIdle = server.rssMb();
    const admin = await registerAdmin(server.graphqlUrl);
    // wg-easy's shape: one server interface that every client dials.
    const wanId = await createWan(admin, `side-by-side-${size}`, { topology: 'HUB_SPOKE' });
    await admin.ok(ADD_PEER, { wanId, input: { name: 'hub', role: 'HUB', endpointHost: 'vpn.example.net', endpointPort: 51820 } });

    const ids: string[] = [];
    const loadBeforeCreate = loadAverage();
    const createStarted = performance.now();
    const creates = await withTimeout(`${size} creates`, PHASE_LIMIT_MS, sample(size, Infinity, async (i) => {
      const data = await admin.ok<{ addPeer: { peer: { id: string } } }>(ADD_PEER, { wanId, input: { name: `client-${i + 1}` } });
      ids.push(data.addPeer.peer.id);
    }));
    const createSeconds = (performance.now() - createStarted) / 1000;
    const loadAfterCreate = loadAverage();
    const rssAfterCreate = server.rssMb();

    const downloads = await withTimeout(`${size} downloads`, PHASE_LIMIT_MS, sample(ids.length, Infinity, async (i) => {
      const config = await download(admin, DOWNLOAD, ids[i] as string);
      if (config.qrSvg !== undefined) throw new Error('a QR code came back unasked');
    }));
    const loadAfterDownload = loadAverage();
    const qr = await sample(QR_DOWNLOADS, Infinity, async (i) => {
      const config = await download(admin, DOWNLOAD_QR, ids[(i * 37) % ids.length] as string);
      if (!config.qrSvg) throw new Error('QR selected but none came back');
    });
    const rssAfterDownload = server.rssMb();
    const loadAfterQr = loadAverage();

    const downloadP50 = percentile(downloads, 50);
    return [
      { bench, name: `${at}: create ${size} peers one at a time, total`, value: round(createSeconds, 2), unit: 's', ...(size === 1000 ? { target: `< ${WG_EASY.create1000Seconds} s (wg-easy)`, met: createSeconds < WG_EASY.create1000Seconds } : {}), note: `${spread(creates)}; load ${loadBeforeCreate} -> ${loadAfterCreate}` },
      { bench, name: `${at}: create p50`, value: round(percentile(creates, 50)), unit: 'ms', note: `p99 ${round(percentile(creates, 99))} ms` },
      { bench, name: `${at}: download wg-quick config without QR, p50`, value: round(downloadP50), unit: 'ms', ...(size === 1000 ? { target: `<= 5 ms (wg-easy ${WG_EASY.downloadP50At1000Ms} ms)`, met: downloadP50 <= 5 } : {}), note: `${spread(downloads)}; every client once, the hub not; load ${loadAfterCreate} -> ${loadAfterDownload}` },
      { bench, name: `${at}: download without QR, p99`, value: round(percentile(downloads, 99)), unit: 'ms' },
      { bench, name: `${at}: download with QR selected (PNG + SVG), p50`, value: round(percentile(qr, 50)), unit: 'ms', note: `${spread(qr)}; load ${loadAfterDownload} -> ${loadAfterQr}` },
      { bench, name: `${at}: server RSS after the creates`, value: round(rssAfterCreate), unit: 'MB', note: `idle after start ${round(rssIdle)} MB` },
      { bench, name: `${at}: server RSS after every download`, value: round(rssAfterDownload), unit: 'MB', ...(size === 1000 ? { target: `<= ${RSS_TARGET_MB} MB`, met: rssAfterDownload <= RSS_TARGET_MB } : {}), note: `after the ${size} downloads and ${qr.length} with QR` },
    ];
  } catch (error) {
    // What the server said before a request failed (it may have crashed).
    if (server) process.stderr.write(`server ${server.lastWords()}\n`);
    throw error;
  } finally {
    await server?.stop();
  }
}

const metrics: Metric[] = [];
for (const size of SIZES) metrics.push(...(await measure(size)));
const reference = 'wg-easy v15.2.2, taken from issue 21, NOT measured here';
metrics.push(
  { bench: 'side-by-side', name: 'wg-easy (issue 21): create 1,000 peers, total', value: WG_EASY.create1000Seconds, unit: 's', note: reference },
  { bench: 'side-by-side', name: 'wg-easy (issue 21): download p50 at 1,000 peers', value: WG_EASY.downloadP50At1000Ms, unit: 'ms', note: reference },
  { bench: 'side-by-side', name: 'wg-easy (issue 21): RSS after 1,000 peers', value: WG_EASY.rssMb + WG_EASY.wireguardGoRssMb, unit: 'MB', note: `${reference}: ${WG_EASY.rssMb} MB wg-easy + ${WG_EASY.wireguardGoRssMb} MB wireguard-go` },
);
report(metrics);
process.exit(0);
