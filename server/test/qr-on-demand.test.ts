// A config download renders its QR codes (~100 ms of CPU each) only when the request selects
// qrSvg or qrPngBase64: counted on the renderers the resolvers call, against the real app.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { qrRenderers } from '../src/graphql/schema/overlay.js';
import { startTestApp, type TestApp } from './support/app.js';
import { GraphQLTestClient, registerAdmin } from './support/graphql.js';
import { seedOverlay, type OverlayFixture } from './support/overlay-fixture.js';

const DOWNLOAD = (fields: string, format = 'WG_QUICK') => `mutation ($p: ID!) { downloadPeerConfig(peerId: $p, format: ${format}) { ${fields} } }`;

describe('QR codes of a download', () => {
  let t: TestApp;
  let admin: GraphQLTestClient;
  let overlay: OverlayFixture;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerAdmin(t.graphqlUrl);
    overlay = await seedOverlay(admin, 'qr');
  });
  afterAll(() => t.stop());
  afterEach(() => vi.restoreAllMocks());

  const download = (fields: string, format?: string) =>
    admin.ok<{ downloadPeerConfig: Record<string, string | null> }>(DOWNLOAD(fields, format), { p: overlay.siteId }).then((data) => data.downloadPeerConfig);

  it('are not rendered when neither field is selected', async () => {
    const svg = vi.spyOn(qrRenderers, 'svg');
    const png = vi.spyOn(qrRenderers, 'png');
    const config = await download('content hash filename');
    expect(config.content).toContain('[Interface]');
    expect(svg).not.toHaveBeenCalled();
    expect(png).not.toHaveBeenCalled();
  });

  it('are rendered from the downloaded content, each only when its field is selected', async () => {
    const svg = vi.spyOn(qrRenderers, 'svg');
    const png = vi.spyOn(qrRenderers, 'png');
    const withSvg = await download('content qrSvg');
    expect(svg).toHaveBeenCalledTimes(1);
    expect(svg).toHaveBeenCalledWith(withSvg.content);
    expect(withSvg.qrSvg).toContain('<svg');
    expect(png).not.toHaveBeenCalled();

    const withPng = await download('content qrPngBase64');
    expect(png).toHaveBeenCalledTimes(1);
    expect(png).toHaveBeenCalledWith(withPng.content);
    expect(Buffer.from(withPng.qrPngBase64!, 'base64').subarray(1, 4).toString()).toBe('PNG');
    expect(svg).toHaveBeenCalledTimes(1);
  });

  it('are not rendered for a RouterOS script even when selected (null: no app reads one)', async () => {
    const svg = vi.spyOn(qrRenderers, 'svg');
    const config = await download('content qrSvg', 'ROUTEROS');
    expect(config.qrSvg).toBeNull();
    expect(svg).not.toHaveBeenCalled();
  });
});
