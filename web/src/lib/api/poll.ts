// A bounded poll for what has no subscription of its own (device health): one call every
// `intervalMs`, never two at once, none while the tab is hidden (a hidden tab costs the server
// nothing), and one right away when it shows again. Returns the stop function, for $effect.
export function pollWhileVisible(run: () => Promise<unknown>, intervalMs: number): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let running = false;

  const schedule = () => {
    clearTimeout(timer);
    if (!stopped && document.visibilityState === 'visible') timer = setTimeout(tick, intervalMs);
  };
  async function tick() {
    if (running || stopped) return;
    running = true;
    try {
      await run();
    } catch {
      // The next round tries again; the page keeps what it last had.
    } finally {
      running = false;
      schedule();
    }
  }
  const onVisibility = () => (document.visibilityState === 'visible' ? void tick() : clearTimeout(timer));

  document.addEventListener('visibilitychange', onVisibility);
  schedule();
  return () => {
    stopped = true;
    clearTimeout(timer);
    document.removeEventListener('visibilitychange', onVisibility);
  };
}
