/**
 * The form schema's two checks, shared by every layer: `checkFormFields` tells a workflow author
 * what is wrong with a field list (the SDK runs it inside the sandbox, the host again before it
 * stores a task), and `validateFormValues` turns what a person submitted — JSON from the API or
 * the strings of an HTML form post — into typed values, or says field by field what to fix.
 */
import type { ChoiceOption, FormField, FormFieldType } from './human-task.js';
import type { Json, JsonObject } from './model.js';

const FIELD_TYPES: readonly FormFieldType[] = ['text', 'textarea', 'number', 'boolean', 'choice', 'multichoice', 'date'];
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** Text beyond this is refused even when the field sets no limit: a form is not a file upload. */
const TEXT_CEILING = 20_000;

export function optionValue(option: ChoiceOption): string {
  return typeof option === 'string' ? option : option.value;
}

export function optionLabel(option: ChoiceOption): string {
  return typeof option === 'string' ? option : option.label;
}

/**
 * Whether a field must be answered. Fields are required unless they say otherwise, except a
 * checkbox: unticked is an answer too (`false`), so a checkbox is required — must be ticked, like
 * an "I have read…" — only when it says `required: true`.
 */
export function isRequired(field: FormField): boolean {
  return field.type === 'boolean' ? field.required === true : field.required !== false;
}

function isCalendarDate(text: string): boolean {
  const match = DATE.exec(text);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isCount = (value: unknown): boolean => value === undefined || (Number.isInteger(value) && (value as number) >= 0);
const isOptionalNumber = (value: unknown): boolean => value === undefined || (typeof value === 'number' && Number.isFinite(value));

function checkOptions(field: Record<string, unknown>, where: string): string[] {
  const options = field['options'];
  if (!Array.isArray(options) || options.length === 0) return [`${where}: options must be a non-empty list`];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const option of options as unknown[]) {
    const valid =
      typeof option === 'string' || (isObject(option) && typeof option['value'] === 'string' && typeof option['label'] === 'string');
    if (!valid) {
      problems.push(`${where}: each option must be a string or { value, label }`);
      continue;
    }
    const value = optionValue(option as ChoiceOption);
    if (seen.has(value)) problems.push(`${where}: option '${value}' appears twice`);
    seen.add(value);
  }
  return problems;
}

/**
 * Limits of a well-typed field that no answer can meet: such a form could never be submitted, so
 * it is refused when it is opened rather than found out by the person who has to answer it.
 */
function unanswerable(field: FormField): string[] {
  switch (field.type) {
    case 'text':
    case 'textarea': {
      if (field.minLength === undefined) return [];
      if (field.maxLength !== undefined && field.minLength > field.maxLength)
        return [`minLength ${field.minLength} is more than maxLength ${field.maxLength}`];
      return field.minLength > TEXT_CEILING
        ? [`minLength ${field.minLength} is more than the ${TEXT_CEILING} characters an answer may hold`]
        : [];
    }
    case 'number':
      if (field.min !== undefined && field.max !== undefined && field.min > field.max)
        return [`min ${field.min} is more than max ${field.max}`];
      if (field.integer && Math.ceil(field.min ?? -Infinity) > Math.floor(field.max ?? Infinity)) {
        return [`no whole number lies between min ${field.min} and max ${field.max}`];
      }
      return [];
    case 'date':
      return field.min !== undefined && field.max !== undefined && field.min > field.max
        ? [`min ${field.min} is after max ${field.max}`]
        : [];
    case 'multichoice': {
      const problems: string[] = [];
      if (field.minSelected !== undefined && field.minSelected > field.options.length) {
        problems.push(`minSelected ${field.minSelected} is more than the ${field.options.length} options`);
      }
      if (field.minSelected !== undefined && field.maxSelected !== undefined && field.minSelected > field.maxSelected) {
        problems.push(`minSelected ${field.minSelected} is more than maxSelected ${field.maxSelected}`);
      }
      return problems;
    }
    default:
      return [];
  }
}

/** What is wrong with one field definition, as sentences that name the field. */
function checkField(raw: unknown, index: number, names: Set<string>): string[] {
  if (!isObject(raw)) return [`fields[${index}] must be an object`];
  const name = raw['name'];
  const where = typeof name === 'string' ? `field '${name}'` : `fields[${index}]`;
  const problems: string[] = [];
  if (typeof name !== 'string' || !FIELD_NAME.test(name)) {
    problems.push(`${where}: name must start with a letter and hold only letters, digits, '_' and '-' (at most 64)`);
  } else if (names.has(name)) {
    problems.push(`${where}: the name is used twice`);
  } else {
    names.add(name);
  }
  if (typeof raw['label'] !== 'string' || raw['label'].trim() === '') problems.push(`${where}: label must be a non-empty string`);
  if (raw['required'] !== undefined && typeof raw['required'] !== 'boolean') problems.push(`${where}: required must be true or false`);
  const type = raw['type'];
  if (!FIELD_TYPES.includes(type as FormFieldType)) {
    return [...problems, `${where}: type must be one of ${FIELD_TYPES.join(', ')}`];
  }
  switch (type as FormFieldType) {
    case 'text':
    case 'textarea':
      if (!isCount(raw['minLength']) || !isCount(raw['maxLength']))
        problems.push(`${where}: minLength and maxLength must be whole numbers`);
      break;
    case 'number':
      if (!isOptionalNumber(raw['min']) || !isOptionalNumber(raw['max'])) problems.push(`${where}: min and max must be numbers`);
      break;
    case 'choice':
      problems.push(...checkOptions(raw, where));
      break;
    case 'multichoice':
      problems.push(...checkOptions(raw, where));
      if (!isCount(raw['minSelected']) || !isCount(raw['maxSelected']))
        problems.push(`${where}: minSelected and maxSelected must be whole numbers`);
      break;
    case 'date':
      for (const key of ['min', 'max'] as const) {
        const limit = raw[key];
        if (limit !== undefined && (typeof limit !== 'string' || !isCalendarDate(limit)))
          problems.push(`${where}: ${key} must be a date written YYYY-MM-DD`);
      }
      break;
    case 'boolean':
      break;
  }
  if (problems.length === 0) problems.push(...unanswerable(raw as unknown as FormField).map((problem) => `${where}: ${problem}`));
  if (problems.length === 0 && raw['default'] !== undefined) {
    const error = validateField(raw as unknown as FormField, raw['default'] as Json);
    if (error !== undefined && 'message' in error) problems.push(`${where}: the default is invalid (${error.message})`);
  }
  return problems;
}

/** Every problem with a form's field list; empty when it is valid. */
export function checkFormFields(fields: unknown): string[] {
  if (!Array.isArray(fields) || fields.length === 0) return ['fields must be a non-empty list'];
  if (fields.length > 100) return ['a form holds at most 100 fields'];
  const names = new Set<string>();
  return (fields as unknown[]).flatMap((field, index) => checkField(field, index, names));
}

type FieldResult = { value: Json } | { message: string } | undefined;

const blank = (value: Json | undefined): boolean =>
  value === undefined ||
  value === null ||
  (typeof value === 'string' && value.trim() === '') ||
  (Array.isArray(value) && value.length === 0);

/**
 * Text as the person typed it. A browser posts each line break of a textarea as `\r\n` but counts
 * it as one character against `maxlength`, so line breaks become `\n` before anything is counted
 * (and in what the workflow receives). A one-line answer loses the blanks around it, which nobody
 * sees (`"  a"` must not pass a minLength of 3); a textarea keeps its indentation.
 */
function asTyped(type: 'text' | 'textarea', raw: string): string {
  const text = raw.replace(/\r\n?/g, '\n');
  return type === 'text' ? text.trim() : text;
}

/** A submitted value of one field: its typed value, a message, or undefined when left empty. */
function validateField(field: FormField, raw: Json | undefined): FieldResult {
  switch (field.type) {
    case 'text':
    case 'textarea': {
      if (blank(raw)) return undefined;
      if (typeof raw !== 'string') return { message: 'must be text' };
      const text = asTyped(field.type, raw);
      const max = Math.min(field.maxLength ?? TEXT_CEILING, TEXT_CEILING);
      if (field.minLength !== undefined && text.length < field.minLength)
        return { message: `must be at least ${field.minLength} characters` };
      if (text.length > max) return { message: `must be at most ${max} characters` };
      if (field.type === 'text' && text.includes('\n')) return { message: 'must be a single line' };
      return { value: text };
    }
    case 'number': {
      if (blank(raw)) return undefined;
      const value = typeof raw === 'string' ? Number(raw.trim()) : raw;
      if (typeof value !== 'number' || !Number.isFinite(value)) return { message: 'must be a number' };
      if (field.integer && !Number.isInteger(value)) return { message: 'must be a whole number' };
      if (field.min !== undefined && value < field.min) return { message: `must be at least ${field.min}` };
      if (field.max !== undefined && value > field.max) return { message: `must be at most ${field.max}` };
      return { value };
    }
    case 'boolean': {
      // An unticked HTML checkbox sends nothing at all.
      if (raw === undefined || raw === null || raw === false || raw === 'false' || raw === '') return { value: false };
      if (raw === true || raw === 'true' || raw === 'on' || raw === '1') return { value: true };
      return { message: 'must be yes or no' };
    }
    case 'choice': {
      if (blank(raw)) return undefined;
      if (typeof raw !== 'string' || !field.options.some((option) => optionValue(option) === raw))
        return { message: 'must be one of the offered choices' };
      return { value: raw };
    }
    case 'multichoice': {
      if (blank(raw)) return undefined;
      const picked = typeof raw === 'string' ? [raw] : raw;
      if (!Array.isArray(picked) || !picked.every((item) => typeof item === 'string')) return { message: 'must be a list of choices' };
      const allowed = new Set(field.options.map(optionValue));
      if (!picked.every((item) => allowed.has(item))) return { message: 'must use only the offered choices' };
      const unique = [...new Set(picked)];
      if (field.minSelected !== undefined && unique.length < field.minSelected) return { message: `pick at least ${field.minSelected}` };
      if (field.maxSelected !== undefined && unique.length > field.maxSelected) return { message: `pick at most ${field.maxSelected}` };
      return { value: unique };
    }
    case 'date': {
      if (blank(raw)) return undefined;
      if (typeof raw !== 'string' || !isCalendarDate(raw.trim())) return { message: 'must be a date written YYYY-MM-DD' };
      const date = raw.trim();
      if (field.min !== undefined && date < field.min) return { message: `must be on or after ${field.min}` };
      if (field.max !== undefined && date > field.max) return { message: `must be on or before ${field.max}` };
      return { value: date };
    }
  }
}

export type FormValidation = { ok: true; values: JsonObject } | { ok: false; errors: Record<string, string> };

/**
 * Checks submitted values against the field list. Unknown keys are ignored (an HTML form carries
 * its CSRF token among them); an empty optional field is left out of `values`, and a one-line text
 * counts as empty when it is only blanks.
 */
export function validateFormValues(fields: readonly FormField[], submitted: Readonly<Record<string, Json | undefined>>): FormValidation {
  const values: JsonObject = {};
  const errors: Record<string, string> = {};
  for (const field of fields) {
    const raw = Object.prototype.hasOwnProperty.call(submitted, field.name) ? submitted[field.name] : undefined;
    const result = validateField(field, raw);
    if (result === undefined) {
      if (isRequired(field)) errors[field.name] = 'is required';
    } else if ('message' in result) {
      errors[field.name] = result.message;
    } else if (field.type === 'boolean' && isRequired(field) && result.value !== true) {
      errors[field.name] = 'must be ticked';
    } else {
      values[field.name] = result.value;
    }
  }
  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, values };
}
