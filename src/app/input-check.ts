import { Ajv, type ValidateFunction } from 'ajv';
import { ValidationError } from '../core/errors.js';
import type { DeployedDefinition, Json } from '../core/model.js';
import type { Sandbox } from '../core/ports.js';

/**
 * Checks a run's input before the run exists: JSON Schema on the host (Ajv, compiled once per
 * version), a validator object (zod…) inside the definition's sandbox.
 */
export function createInputChecker(sandbox: Sandbox): (definition: DeployedDefinition, input: Json) => void {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const compiled = new Map<string, ValidateFunction>();
  return (definition, input) => {
    const { manifest } = definition;
    if (manifest.inputSchema) {
      let validate = compiled.get(definition.version);
      if (!validate) compiled.set(definition.version, (validate = ajv.compile(manifest.inputSchema)));
      if (!validate(input)) {
        const issues = (validate.errors ?? []).map((e) => `${e.instancePath || '(input)'}: ${e.message ?? 'is invalid'}`);
        throw new ValidationError(`input of workflow '${definition.name}' is invalid`, issues);
      }
    }
    if (manifest.validatesInput) {
      const check = sandbox.checkInput(definition, input);
      if (!check.ok) throw new ValidationError(`input of workflow '${definition.name}' is invalid`, check.issues);
    }
  };
}
