/** `setMilestone` → `set-milestone`: names as a shell user types them. */
export function kebabCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

/** `publicUrl` → `--public-url`: the command-line flag of an option key. */
export function flagName(key: string): string {
  return `--${kebabCase(key)}`;
}
