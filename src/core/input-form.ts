/**
 * A workflow's input schema as the fields of a form (the web UI's "Start a run", as GitHub's `workflow_dispatch`
 * inputs): an object whose properties are each a string, a number, a boolean, a choice among strings or several of
 * them. Any other schema (nested objects, lists of free text, `anyOf`, a property name a field cannot have) has no
 * form: the input is then written as JSON. The form only gathers values; the schema itself still checks the input.
 */
import { checkFormFields } from './forms.js';
import type { FormField } from './human-task.js';
import type { Json, JsonObject } from './model.js';

const isObject = (value: Json | undefined): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);
const isStringList = (value: Json | undefined): value is string[] =>
  Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string');
const numberOr = (value: Json | undefined): number | undefined => (typeof value === 'number' ? value : undefined);

/** The field of one property, or undefined when a form cannot gather it. */
function fieldOf(name: string, property: JsonObject, required: boolean): FormField | undefined {
  const base = {
    name,
    label: typeof property.title === 'string' ? property.title : name,
    ...(typeof property.description === 'string' && { help: property.description }),
    required,
  };
  const fallback = property.default;
  switch (property.type) {
    case 'string': {
      if (property.enum !== undefined) {
        if (!isStringList(property.enum)) return undefined;
        return { ...base, type: 'choice', options: property.enum, ...(typeof fallback === 'string' && { default: fallback }) };
      }
      const text = typeof fallback === 'string' ? { default: fallback } : {};
      if (property.format === 'date') return { ...base, type: 'date', ...text };
      return {
        ...base,
        type: 'text',
        ...text,
        ...(numberOr(property.minLength) !== undefined && { minLength: numberOr(property.minLength) }),
        ...(numberOr(property.maxLength) !== undefined && { maxLength: numberOr(property.maxLength) }),
      };
    }
    case 'number':
    case 'integer':
      return {
        ...base,
        type: 'number',
        ...(property.type === 'integer' && { integer: true }),
        ...(numberOr(property.minimum) !== undefined && { min: numberOr(property.minimum) }),
        ...(numberOr(property.maximum) !== undefined && { max: numberOr(property.maximum) }),
        ...(typeof fallback === 'number' && { default: fallback }),
      };
    case 'boolean':
      // Unticked is an answer (false), which any boolean property takes: the box is never "required" to be ticked.
      return { ...base, required: false, type: 'boolean', ...(typeof fallback === 'boolean' && { default: fallback }) };
    case 'array': {
      const items = property.items;
      if (!isObject(items) || items.type !== 'string' || !isStringList(items.enum)) return undefined;
      return { ...base, type: 'multichoice', options: items.enum, ...(isStringList(fallback) && { default: fallback }) };
    }
    default:
      return undefined;
  }
}

/**
 * The form fields of `schema`, in the order of its properties, or undefined when it is not a flat object a form can
 * gather (or declares no property: nothing to ask).
 */
export function inputFormFields(schema: Json | undefined): FormField[] | undefined {
  if (!isObject(schema) || schema.type !== 'object' || !isObject(schema.properties)) return undefined;
  const required = new Set(isStringList(schema.required) ? schema.required : []);
  const fields: FormField[] = [];
  for (const [name, property] of Object.entries(schema.properties)) {
    const field = isObject(property) ? fieldOf(name, property, required.has(name)) : undefined;
    if (field === undefined) return undefined;
    fields.push(field);
  }
  return fields.length > 0 && checkFormFields(fields).length === 0 ? fields : undefined;
}
