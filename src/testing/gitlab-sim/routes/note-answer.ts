import { refused } from '../errors.js';
import type { SimRequest } from '../http/app.js';
import type { SimNote } from '../model.js';
import type { PostedNote } from '../ops/notes.js';
import type { Entity } from '../present/basic.js';

/**
 * How GitLab answers the creation of a note or thread (`process_note_creation_result`): 201 with the
 * note (`present`, given its `commands_changes`); for a note of quick actions only, 202 with what they
 * changed and their messages, or 400 when none said what it did.
 */
export function answerPostedNote(c: SimRequest, posted: PostedNote, present: (note: SimNote, commandsChanges: object) => Entity): Response {
  const changes = posted.commands?.changes ?? {};
  if (posted.note) return c.json(present(posted.note, changes), 201);
  if (posted.commands?.error !== undefined) throw refused(`400 Bad request - ${posted.commands.error}`);
  return c.json({ commands_changes: changes, summary: posted.commands?.summary ?? [] }, 202);
}
