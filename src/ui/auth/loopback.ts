/**
 * Whether a host name or address is this machine's own: `localhost`, 127.0.0.0/8 or `::1` (in
 * URL brackets or IPv4-mapped too). Signing in with a URL that says so works only on this machine.
 */
export function isLoopback(hostOrAddress: string | undefined): boolean {
  if (!hostOrAddress) return false;
  const bare = hostOrAddress
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/^::ffff:/i, '')
    .toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare);
}
