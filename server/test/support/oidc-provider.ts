// Starts the real OpenID Provider of oidc-provider-server.ts as its own process (stopped by
// its PID), and an HTTP "browser" for the API tests: a cookie jar per origin, redirects
// followed hop by hop across Meshplane and the provider, and the provider's login form filled
// in like a person would.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProviderAccount, ProviderOptions } from './oidc-provider-server.js';

export type { ProviderAccount };

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'oidc-provider-server.ts');
// tsx is resolved from the server package, whoever starts the provider (the web e2e tests too).
const serverDir = path.resolve(path.dirname(script), '..', '..');

/** alice administers, bob operates, carol is in no group Meshplane maps. */
export const TEST_ACCOUNTS: Record<string, ProviderAccount> = {
  alice: { email: 'alice@example.com', email_verified: true, name: 'Alice Admin', groups: ['meshplane-admins', 'staff'] },
  bob: { email: 'bob@example.com', email_verified: true, preferred_username: 'bob', groups: ['netops'] },
  carol: { email: 'carol@example.com', email_verified: true, name: 'Carol', groups: ['marketing'] },
};

export const TEST_ROLES = 'ADMIN=meshplane-admins;OPERATOR=netops;VIEWER=staff';

export interface TestProvider {
  issuer: string;
  pid: number;
  clientId: string;
  clientSecret: string | null;
  /** Replaces an account's claims (groups, e-mail...) for its next sign-in. */
  setAccount(id: string, account: ProviderAccount): Promise<void>;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (the app's, so the provider can know its redirect URI first). */
export async function freeLoopbackPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startOidcProvider(options: {
  /** Meshplane's base URL, e.g. http://127.0.0.1:4123 (redirect and post-logout URIs are derived). */
  appUrl: string;
  clientId?: string;
  /** null: a public client (PKCE only). */
  clientSecret?: string | null;
  accounts?: Record<string, ProviderAccount>;
  conformIdTokenClaims?: boolean;
  /** A given loopback port (default: any free one). */
  port?: number;
}): Promise<TestProvider> {
  const clientId = options.clientId ?? 'meshplane';
  const clientSecret = options.clientSecret === undefined ? `secret-${randomBytes(12).toString('hex')}` : options.clientSecret;
  const adminToken = randomBytes(16).toString('hex');
  const providerOptions: ProviderOptions = {
    clients: [
      {
        client_id: clientId,
        ...(clientSecret ? { client_secret: clientSecret } : { token_endpoint_auth_method: 'none' }),
        redirect_uris: [`${options.appUrl}/auth/oidc/callback`],
        post_logout_redirect_uris: [`${options.appUrl}/login`],
        response_types: ['code'],
        grant_types: ['authorization_code'],
      },
    ],
    accounts: options.accounts ?? TEST_ACCOUNTS,
    adminToken,
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.conformIdTokenClaims === undefined ? {} : { conformIdTokenClaims: options.conformIdTokenClaims }),
  };
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(providerOptions)], { stdio: ['ignore', 'pipe', 'pipe'], cwd: serverDir });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const issuer = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`the OIDC provider did not start in 30 s: ${stderr}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n').find((text) => text.startsWith('{"issuer"'));
      if (!line) return;
      clearTimeout(timer);
      resolve((JSON.parse(line) as { issuer: string }).issuer);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the OIDC provider exited (${code}): ${stderr}`));
    });
  });
  const pid = child.pid!;
  return {
    issuer,
    pid,
    clientId,
    clientSecret,
    async setAccount(id, account) {
      const response = await fetch(`${issuer}/__test/accounts/${encodeURIComponent(id)}`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(account) });
      if (response.status !== 204) throw new Error(`could not change account ${id}: HTTP ${response.status}`);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      process.kill(pid, 'SIGTERM');
      const timer = setTimeout(() => process.kill(pid, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface Hop {
  url: string;
  status: number;
  location: string | null;
  body: string;
  setCookies: string[];
}

/** An HTTP client that keeps cookies per origin, like a browser, and follows redirects one hop at a time. */
export class HttpBrowser {
  private readonly jars = new Map<string, Map<string, string>>();

  private jar(origin: string): Map<string, string> {
    let jar = this.jars.get(origin);
    if (!jar) this.jars.set(origin, (jar = new Map()));
    return jar;
  }

  cookie(origin: string, name: string): string | null {
    return this.jars.get(origin)?.get(name) ?? null;
  }

  setCookie(origin: string, name: string, value: string | null): void {
    if (value === null) this.jar(origin).delete(name);
    else this.jar(origin).set(name, value);
  }

  cookieHeader(origin: string): string {
    return [...this.jar(origin)].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  /** One request, no redirect followed. */
  async hop(url: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string>; body?: string } = {}): Promise<Hop> {
    const target = new URL(url);
    const headers: Record<string, string> = { ...init.headers };
    const cookies = this.cookieHeader(target.origin);
    if (cookies) headers.cookie = cookies;
    let body: string | undefined = init.body;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const response = await fetch(target, { method: init.method ?? (body ? 'POST' : 'GET'), headers, redirect: 'manual', ...(body === undefined ? {} : { body }) });
    const setCookies = response.headers.getSetCookie();
    for (const line of setCookies) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/;\s*max-age=0/i.test(line) || /;\s*expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.jar(target.origin).delete(name);
      else this.jar(target.origin).set(name, value);
    }
    const location = response.headers.get('location');
    return { url: target.href, status: response.status, location: location ? new URL(location, target).href : null, body: await response.text(), setCookies };
  }

  /** Follows redirects from `url` until a non-redirect answer, or until `stop` says the next URL is far enough (then not requested). */
  async follow(url: string, stop: (next: URL) => boolean = () => false, init: { method?: string; form?: Record<string, string> } = {}): Promise<{ last: Hop; next: string | null }> {
    let hop = await this.hop(url, init);
    for (let hops = 0; hop.status >= 300 && hop.status < 400 && hop.location; hops++) {
      if (hops > 20) throw new Error('more than 20 redirects');
      if (stop(new URL(hop.location))) return { last: hop, next: hop.location };
      hop = await this.hop(hop.location);
    }
    return { last: hop, next: null };
  }

  /** A GraphQL request to Meshplane with this browser's cookies. */
  async graphql<T = Record<string, unknown>>(appUrl: string, query: string, variables: Record<string, unknown> = {}): Promise<{ data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> }> {
    const hop = await this.hop(`${appUrl}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    return JSON.parse(hop.body) as { data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> };
  }
}

/** The first HTML form of a page: its action (absolute) and its hidden inputs. */
export function formOf(html: string, pageUrl: string): { action: string; fields: Record<string, string> } {
  const form = /<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) throw new Error(`no form on ${pageUrl}: ${html.slice(0, 300)}`);
  const fields: Record<string, string> = {};
  for (const input of form[2]!.matchAll(/<input[^>]*type="hidden"[^>]*>/gi)) {
    const name = /name="([^"]*)"/.exec(input[0])?.[1];
    const value = /value="([^"]*)"/.exec(input[0])?.[1] ?? '';
    if (name) fields[name] = value;
  }
  return { action: new URL(form[1]!.replace(/&amp;/g, '&'), pageUrl).href, fields };
}

export interface ProviderSignIn {
  /** The callback URL the provider sent the browser to (not requested yet when `stopAtCallback`). */
  callbackUrl: string;
  /** Whether the provider asked for the login form (false: its session signed the user in silently). */
  askedForLogin: boolean;
}

/**
 * Starts at Meshplane's /auth/oidc/login, fills the provider's login form as `login` (any
 * password: the development login page takes one) and stops at the callback to Meshplane,
 * which is returned unrequested (tests may tamper with it) — see `finishAtMeshplane`.
 */
export async function signInAtProvider(browser: HttpBrowser, appUrl: string, login: string, next?: string, startUrl?: string): Promise<ProviderSignIn> {
  const isCallback = (url: URL) => url.origin === new URL(appUrl).origin && url.pathname === '/auth/oidc/callback';
  const start = startUrl ?? `${appUrl}/auth/oidc/login${next === undefined ? '' : `?next=${encodeURIComponent(next)}`}`;
  const first = await browser.follow(start, isCallback);
  if (first.next) return { callbackUrl: first.next, askedForLogin: false };
  if (first.last.status !== 200 || !/name="login"/.test(first.last.body)) throw new Error(`expected the provider's login form, got HTTP ${first.last.status} at ${first.last.url}: ${first.last.location ?? first.last.body.slice(0, 200)}`);
  const form = formOf(first.last.body, first.last.url);
  const second = await browser.follow(form.action, isCallback, { form: { ...form.fields, login, password: 'any password' } });
  if (!second.next) throw new Error(`the provider did not send the browser back: HTTP ${second.last.status} at ${second.last.url}: ${second.last.body.slice(0, 300)}`);
  return { callbackUrl: second.next, askedForLogin: true };
}

/**
 * Requests the callback at Meshplane: where it sends the browser next (a path on Meshplane, or
 * /login?error=…). A Location that leads anywhere else (`//host` included, resolved as a browser
 * would) comes back whole, so an open redirect shows as one.
 */
export async function finishAtMeshplane(browser: HttpBrowser, callbackUrl: string): Promise<{ location: string; status: number }> {
  const hop = await browser.hop(callbackUrl);
  if (!hop.location) return { status: hop.status, location: '' };
  const next = new URL(hop.location);
  return { status: hop.status, location: next.origin === new URL(callbackUrl).origin ? next.pathname + next.search : next.href };
}
