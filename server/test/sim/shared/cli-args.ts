// Argument checks shared by the standalone simulators (routeros/main.ts, pfsense/main.ts):
// a typo such as `--port abc` must stop the program with a message, not listen on NaN.

/** A TCP port from the command line; 0 means "any free port". */
export function portArg(name: string, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--${name} must be a port number (0-65535), got "${text}"`);
  return n;
}
