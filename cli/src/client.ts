// Meshplane's GraphQL API over fetch with an API token. Errors carry the server's code
// (extensions.code) and message; the token is sent as a header and never put into one.

export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** 1 error, 3 a file or change the CLI refuses. */
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string; field?: string } }>;
}

export class Api {
  /** Mutations sent, so apply can say how many changes it made (0: nothing to do). */
  mutations = 0;
  readonly url: string;

  constructor(
    server: string,
    private readonly token: string,
  ) {
    const base = server.replace(/\/+$/, '');
    this.url = base.endsWith('/graphql') ? base : `${base}/graphql`;
  }

  async query<T>(document: string, variables: Record<string, unknown> = {}): Promise<T> {
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${this.token}` },
        body: JSON.stringify({ query: document, variables }),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError('UNREACHABLE', `cannot reach ${this.url}: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
    }
    const body = (await response.json().catch(() => null)) as GraphQLResponse<T> | null;
    if (!body) throw new CliError(`HTTP_${response.status}`, `${this.url} answered HTTP ${response.status} without a GraphQL response`);
    const first = body.errors?.[0];
    if (first) {
      const field = first.extensions?.field ? ` (field ${first.extensions.field})` : '';
      throw new CliError(first.extensions?.code ?? 'GRAPHQL_ERROR', `${first.message}${field}`);
    }
    if (!body.data) throw new CliError(`HTTP_${response.status}`, `${this.url} answered without data`);
    return body.data;
  }

  async mutate<T>(document: string, variables: Record<string, unknown> = {}): Promise<T> {
    this.mutations += 1;
    return this.query<T>(document, variables);
  }
}
