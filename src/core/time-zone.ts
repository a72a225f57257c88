/**
 * Whether a time zone name is one to schedule by. Intl takes IANA names (`Europe/Berlin`) but also abbreviations and
 * old aliases, and reads several of them as a zone other than the one people mean: `BST` as Asia/Dhaka (not London's
 * summer time), `IST` as Kolkata (not Israel or Ireland), `CST` as Chicago (not China), `EST` as Panama (no summer
 * time). A 09:00 schedule in `BST` so ran at 03:00 UTC. Only names of a place (`Area/Location`) and UTC are taken,
 * and not the `Etc/GMT±N` zones either, whose sign POSIX inverts: `Etc/GMT+5` is five hours behind UTC.
 */

/** `Etc/GMT+5`, `Etc/GMT-14`: fixed offsets whose sign is the opposite of what they seem to say. */
const POSIX_OFFSET = /^Etc\/GMT([+-])(\d{1,2})$/i;

/** Why `zone` is refused, or undefined when it is an IANA name of a place, or UTC. */
export function timeZoneProblem(zone: string): string | undefined {
  let readAs: string;
  try {
    readAs = new Intl.DateTimeFormat('en', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return `${JSON.stringify(zone)} is not an IANA time zone; write the zone of a place, such as "Europe/Berlin"`;
  }
  const offset = POSIX_OFFSET.exec(zone);
  if (offset && Number(offset[2]) !== 0) {
    const [, sign, hours] = offset;
    const meant = `UTC${sign === '+' ? '−' : '+'}${hours}`;
    return (
      `${JSON.stringify(zone)} is ${meant}: POSIX inverts the sign of the Etc/GMT zones, so it is not the UTC${sign}${hours} it seems to say; ` +
      'write the zone of a place, such as "Asia/Karachi" or "America/New_York", which also follows its summer time'
    );
  }
  if (zone.includes('/') || readAs === 'UTC') return undefined;
  return (
    `${JSON.stringify(zone)} is an abbreviation or alias, not the IANA name of a place, and would be read as ${readAs}, ` +
    `which may not be the zone you mean; write the zone of a place, such as "Europe/London", "America/New_York" or "${readAs}"`
  );
}
