import { fileURLToPath } from 'node:url';

/** Files are named by path or by `file:` URL (`new URL('./hello.ts', import.meta.url)` in a test). */
export const toPath = (file: string | URL): string => (file instanceof URL ? fileURLToPath(file) : file);
