/** Resolves with the first SIGINT or SIGTERM (long-running commands stop cleanly on either). */
export function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (s: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(s);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

/**
 * Calls `reload` on every SIGHUP until the returned function is called (the
 * usual "re-read your certificates" signal). Without a handler Node would
 * exit on SIGHUP.
 */
export function onReloadSignal(reload: () => void): () => void {
  const on = (): void => reload();
  process.on('SIGHUP', on);
  return () => process.off('SIGHUP', on);
}
