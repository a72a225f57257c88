/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { isRequired, optionLabel, optionValue, validateFormValues, type FormValidation } from '../core/forms.js';
import type { FormField } from '../core/human-task.js';
import type { Json } from '../core/model.js';

/** Values as an HTML form posts them: strings, and arrays for repeated keys. */
export type PostedValues = Record<string, string | string[]>;

/**
 * The posted form reduced to the fields of the spec, in the shape the operations coerce: a
 * multichoice is always an array (a single ticked box posts a lone string), a checkbox that is
 * absent is `"false"`. Everything else (the CSRF token, unknown keys) is dropped.
 */
export function postedValues(fields: readonly FormField[], form: Record<string, unknown>): PostedValues {
  const values: PostedValues = {};
  for (const field of fields) {
    const raw = form[field.name];
    const strings = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).filter((item): item is string => typeof item === 'string');
    if (field.type === 'multichoice') values[field.name] = strings;
    else if (field.type === 'boolean') values[field.name] = strings.includes('true') ? 'true' : 'false';
    else if (strings[0] !== undefined) values[field.name] = strings[0];
  }
  return values;
}

/** A number as an HTML number input writes it (`12`, `-4.5`, `.5`, `1e3`): no hex, no `Infinity`, no blanks inside. */
const HTML_NUMBER = /^-?(?:\d+|\d*\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * What the operations' coercion would let through but no browser sends, by field name: a number
 * not written the HTML way (`0x5` would become 5), a checkbox with any value but the `true` its
 * box posts (`urgent=yes` would become false). A crafted post gets these as field errors.
 */
export function strictPostErrors(fields: readonly FormField[], form: Record<string, unknown>): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const field of fields) {
    const raw = form[field.name];
    const strings = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
    if (field.type === 'number') {
      const text = typeof strings[0] === 'string' ? strings[0].trim() : '';
      if (strings.length > 1 || (strings.length === 1 && typeof strings[0] !== 'string')) errors[field.name] = 'must be one number';
      else if (text !== '' && !HTML_NUMBER.test(text)) errors[field.name] = 'must be a number written in decimal digits, like 12 or 4.5';
    } else if (field.type === 'boolean') {
      if (strings.length > 1 || (strings.length === 1 && strings[0] !== 'true'))
        errors[field.name] = 'must be ticked or not: the box posts “true” or nothing';
    }
  }
  return errors;
}

/**
 * A posted form checked as a whole: the typed values, or each field's problem — what no browser sends
 * (strictPostErrors) beside what the fields refuse of the rest.
 */
export function checkPostedForm(fields: readonly FormField[], form: Record<string, unknown>): FormValidation {
  const strict = strictPostErrors(fields, form);
  const checked = validateFormValues(
    fields,
    Object.fromEntries(Object.entries(postedValues(fields, form)).filter(([name]) => !(name in strict))),
  );
  if (Object.keys(strict).length === 0) return checked;
  return { ok: false, errors: { ...(checked.ok ? {} : checked.errors), ...strict } };
}

/** A submitted value as a person reads it: yes/no, the choices' labels, `—` for nothing. */
export function formatValue(field: FormField | undefined, value: Json | undefined): string {
  if (value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)) return '—';
  if (!field) return typeof value === 'string' ? value : JSON.stringify(value);
  const text = (item: Json): string => (typeof item === 'string' ? item : JSON.stringify(item));
  const label = (item: Json): string => {
    if (field.type !== 'choice' && field.type !== 'multichoice') return text(item);
    const option = field.options.find((candidate) => optionValue(candidate) === item);
    return option ? optionLabel(option) : text(item);
  };
  switch (field.type) {
    case 'boolean':
      return value === true ? 'yes' : 'no';
    case 'multichoice':
      return (Array.isArray(value) ? value : [value]).map(label).join(', ');
    case 'choice':
      return label(value);
    default:
      return typeof value === 'string' || typeof value === 'number' ? String(value) : JSON.stringify(value);
  }
}

/**
 * A submitted form: each field's label and its value as a person reads it, in the form's order;
 * values of fields the spec no longer has last, by name. `unsaved` marks an answer that was
 * refused (`data-unsaved`), so that it is never taken for the recorded one (`data-answer`).
 */
export function SubmittedValues(props: { fields: readonly FormField[]; values: Record<string, Json> | undefined; unsaved?: boolean }) {
  const values = props.values ?? {};
  const extra = Object.keys(values).filter((name) => !props.fields.some((field) => field.name === name));
  const mark = (name: string) => (props.unsaved ? { 'data-unsaved': name } : { 'data-answer': name });
  return (
    <dl class="meta answers">
      {props.fields.map((field) => (
        <>
          <dt>{field.label}</dt>
          <dd class={field.type === 'textarea' ? 'multiline' : undefined} {...mark(field.name)}>
            {formatValue(field, values[field.name])}
          </dd>
        </>
      ))}
      {extra.map((name) => (
        <>
          <dt class="mono">{name}</dt>
          <dd {...mark(name)}>{formatValue(undefined, values[name])}</dd>
        </>
      ))}
    </dl>
  );
}

/** Posted values in the shape of an answer (a ticked box is `true`), to show what was typed. */
function postedAnswer(fields: readonly FormField[], values: PostedValues): Record<string, Json> {
  return Object.fromEntries(
    fields.map((field) => [field.name, field.type === 'boolean' ? values[field.name] === 'true' : (values[field.name] ?? null)]),
  );
}

/**
 * What a person typed into a form that closed before their post arrived (another assignee was
 * first, it timed out): read-only, outside the live regions, so that they can copy it.
 */
export function UnsavedAnswer(props: { fields: readonly FormField[]; values: PostedValues }) {
  return (
    <section id="unsaved-answer">
      <h2>Your answer (not saved)</h2>
      <p class="muted">This is what you typed, to copy if you still need it.</p>
      <SubmittedValues fields={props.fields} values={postedAnswer(props.fields, props.values)} unsaved />
    </section>
  );
}

/** The id a link to the field's error points at: its input, or a multichoice's first box. */
export function fieldTarget(field: FormField): string {
  return field.type === 'multichoice' ? `f-${field.name}-0` : `f-${field.name}`;
}

/** What a field shows: what was posted (after an invalid post), else its default. */
function shown(field: FormField, values: PostedValues | undefined): string | string[] | undefined {
  if (values) return values[field.name];
  if (field.default === undefined) return undefined;
  if (Array.isArray(field.default)) return field.default;
  return String(field.default);
}

function Input(props: {
  field: FormField;
  /** What makes its ids: the field's name, after the form's prefix. */
  idKey: string;
  value: string | string[] | undefined;
  disabled: boolean;
  describedBy: string;
  invalid: boolean;
  focus: boolean;
}) {
  const { field, disabled } = props;
  const id = `f-${props.idKey}`;
  const required = isRequired(field);
  const single = typeof props.value === 'string' ? props.value : undefined;
  const many = Array.isArray(props.value) ? props.value : single === undefined ? [] : [single];
  const invalid = props.invalid ? { 'aria-invalid': 'true' as const } : {};
  // After a refused post the first invalid field takes the focus as the page loads (no script needed).
  const common = {
    id,
    name: field.name,
    disabled,
    'aria-describedby': props.describedBy,
    ...invalid,
    ...(props.focus ? { autofocus: true } : {}),
  };
  switch (field.type) {
    case 'text':
      return (
        <input
          type="text"
          {...common}
          value={single ?? ''}
          required={required}
          minlength={field.minLength}
          maxlength={field.maxLength}
          placeholder={field.placeholder}
        />
      );
    case 'textarea':
      return (
        <textarea {...common} required={required} minlength={field.minLength} maxlength={field.maxLength} placeholder={field.placeholder}>
          {single ?? ''}
        </textarea>
      );
    case 'number':
      return (
        <input
          type="number"
          {...common}
          value={single ?? ''}
          required={required}
          min={field.min}
          max={field.max}
          step={field.integer ? '1' : 'any'}
        />
      );
    case 'date':
      return <input type="date" {...common} value={single ?? ''} required={required} min={field.min} max={field.max} />;
    case 'boolean':
      return (
        <label>
          <input type="checkbox" {...common} value="true" checked={single === 'true'} required={required} /> <FieldTitle field={field} />
        </label>
      );
    case 'choice':
      return (
        <select {...common} required={required}>
          <option value="">— choose —</option>
          {field.options.map((option) => (
            <option value={optionValue(option)} selected={single === optionValue(option)}>
              {optionLabel(option)}
            </option>
          ))}
        </select>
      );
    case 'multichoice':
      return (
        <div class="choices" id={id}>
          {field.options.map((option, index) => (
            <label>
              <input
                type="checkbox"
                id={`${id}-${index}`}
                name={field.name}
                value={optionValue(option)}
                checked={many.includes(optionValue(option))}
                disabled={disabled}
                {...invalid}
                {...(props.focus && index === 0 ? { autofocus: true } : {})}
              />{' '}
              {optionLabel(option)}
            </label>
          ))}
        </div>
      );
  }
}

function limits(field: FormField): string | undefined {
  switch (field.type) {
    case 'text':
    case 'textarea':
      if (field.minLength !== undefined && field.maxLength !== undefined) return `${field.minLength}–${field.maxLength} characters`;
      if (field.maxLength !== undefined) return `at most ${field.maxLength} characters`;
      if (field.minLength !== undefined) return `at least ${field.minLength} characters`;
      return undefined;
    case 'number': {
      const range =
        field.min !== undefined && field.max !== undefined
          ? `${field.min} to ${field.max}`
          : field.min !== undefined
            ? `at least ${field.min}`
            : field.max !== undefined
              ? `at most ${field.max}`
              : '';
      return [field.integer ? 'a whole number' : '', range].filter(Boolean).join(', ') || undefined;
    }
    case 'multichoice':
      if (field.minSelected !== undefined || field.maxSelected !== undefined)
        return `choose ${field.minSelected ?? 0}–${field.maxSelected ?? field.options.length}`;
      return undefined;
    case 'date':
      return field.min || field.max ? `between ${field.min ?? '…'} and ${field.max ?? '…'}` : undefined;
    case 'boolean':
      return isRequired(field) ? 'tick it to submit the form' : undefined;
    default:
      return undefined;
  }
}

/** A field's label with the marker of a required field (for a checkbox: one that must be ticked). */
function FieldTitle(props: { field: FormField }) {
  return (
    <>
      {props.field.label}
      {isRequired(props.field) && (
        <span class="req" title="required">
          {' '}
          *
        </span>
      )}
    </>
  );
}

/**
 * One field: label with a required marker, the input, help and limits, and its error after an
 * invalid post (linked by aria-describedby, the input marked aria-invalid). A multichoice is a
 * fieldset whose legend names the group of boxes.
 */
export function Field(props: {
  field: FormField;
  values: PostedValues | undefined;
  error: string | undefined;
  disabled: boolean;
  focus?: boolean;
  /** Before the field's name in its ids, for a page with several forms whose fields may share names. */
  idPrefix?: string;
}) {
  const { field, error } = props;
  const key = `${props.idPrefix ?? ''}${field.name}`;
  const hint = [field.help, limits(field)].filter(Boolean).join(' · ');
  const describedBy = `h-${key}${error ? ` e-${key}` : ''}`;
  const input = (
    <Input
      field={field}
      idKey={key}
      value={shown(field, props.values)}
      disabled={props.disabled}
      describedBy={describedBy}
      invalid={error !== undefined}
      focus={props.focus === true}
    />
  );
  const below = (
    <>
      <div class="help" id={`h-${key}`}>
        {hint}
      </div>
      {error && (
        <div class="field-error" id={`e-${key}`}>
          {error}
        </div>
      )}
    </>
  );
  if (field.type === 'multichoice') {
    return (
      <fieldset class={`field group${error ? ' invalid' : ''}`} data-field={field.name} aria-describedby={describedBy}>
        <legend class="title">
          <FieldTitle field={field} />
        </legend>
        {input}
        {below}
      </fieldset>
    );
  }
  return (
    <div class={`field${error ? ' invalid' : ''}`} data-field={field.name}>
      {field.type !== 'boolean' && (
        <label class="title" for={`f-${key}`}>
          <FieldTitle field={field} />
        </label>
      )}
      {input}
      {below}
    </div>
  );
}
