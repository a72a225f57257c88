/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { isRequired, optionLabel, optionValue } from '../core/forms.js';
import type { FormField } from '../core/human-task.js';

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

/** What a field shows: what was posted (after an invalid post), else its default. */
function shown(field: FormField, values: PostedValues | undefined): string | string[] | undefined {
  if (values) return values[field.name];
  if (field.default === undefined) return undefined;
  if (Array.isArray(field.default)) return field.default;
  return String(field.default);
}

function Input(props: { field: FormField; value: string | string[] | undefined; disabled: boolean; describedBy: string }) {
  const { field, disabled } = props;
  const id = `f-${field.name}`;
  const required = isRequired(field);
  const single = typeof props.value === 'string' ? props.value : undefined;
  const many = Array.isArray(props.value) ? props.value : single === undefined ? [] : [single];
  const common = { id, name: field.name, disabled, 'aria-describedby': props.describedBy };
  switch (field.type) {
    case 'text':
      return <input type="text" {...common} value={single ?? ''} required={required} minlength={field.minLength} maxlength={field.maxLength} placeholder={field.placeholder} />;
    case 'textarea':
      return <textarea {...common} required={required} minlength={field.minLength} maxlength={field.maxLength} placeholder={field.placeholder}>{single ?? ''}</textarea>;
    case 'number':
      return <input type="number" {...common} value={single ?? ''} required={required} min={field.min} max={field.max} step={field.integer ? '1' : 'any'} />;
    case 'date':
      return <input type="date" {...common} value={single ?? ''} required={required} min={field.min} max={field.max} />;
    case 'boolean':
      return (
        <label>
          <input type="checkbox" {...common} value="true" checked={single === 'true'} /> {field.label}
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
              <input type="checkbox" id={`${id}-${index}`} name={field.name} value={optionValue(option)} checked={many.includes(optionValue(option))} disabled={disabled} /> {optionLabel(option)}
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
      const range = field.min !== undefined && field.max !== undefined ? `${field.min} to ${field.max}` : field.min !== undefined ? `at least ${field.min}` : field.max !== undefined ? `at most ${field.max}` : '';
      return [field.integer ? 'a whole number' : '', range].filter(Boolean).join(', ') || undefined;
    }
    case 'multichoice':
      if (field.minSelected !== undefined || field.maxSelected !== undefined) return `choose ${field.minSelected ?? 0}–${field.maxSelected ?? field.options.length}`;
      return undefined;
    case 'date':
      return field.min || field.max ? `between ${field.min ?? '…'} and ${field.max ?? '…'}` : undefined;
    default:
      return undefined;
  }
}

/** One field: label with a required marker, the input, help and limits, and its error after an invalid post. */
export function Field(props: { field: FormField; values: PostedValues | undefined; error: string | undefined; disabled: boolean }) {
  const { field, error } = props;
  const required = isRequired(field);
  const hint = [field.help, limits(field)].filter(Boolean).join(' · ');
  const describedBy = `h-${field.name}${error ? ` e-${field.name}` : ''}`;
  const group = field.type === 'multichoice';
  return (
    <div class={`field${error ? ' invalid' : ''}`} data-field={field.name}>
      {field.type !== 'boolean' &&
        (group ? (
          <span class="title">
            <label class="title">
              {field.label}
              {required && <span class="req" title="required"> *</span>}
            </label>
          </span>
        ) : (
          <label class="title" for={`f-${field.name}`}>
            {field.label}
            {required && <span class="req" title="required"> *</span>}
          </label>
        ))}
      <Input field={field} value={shown(field, props.values)} disabled={props.disabled} describedBy={describedBy} />
      <div class="help" id={`h-${field.name}`}>
        {hint}
      </div>
      {error && (
        <div class="field-error" id={`e-${field.name}`} role="alert">
          {error}
        </div>
      )}
    </div>
  );
}
