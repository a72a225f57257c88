import { http, secrets } from '../sdk/capabilities.js';
import { CancelledError } from '../sdk/errors.js';
import { log } from '../sdk/log.js';
import type { Diagnostics } from './targets.js';

/**
 * Advice on an incident from an OpenAI-compatible chat completions endpoint (OpenAI, Azure
 * OpenAI, vLLM, Ollama, LiteLLM…). Optional by configuration: when the API key secret is not
 * configured, or the endpoint fails, it answers undefined, says why in the run's log, and the
 * workflow goes on.
 * Grant `permissions.http` for the endpoint and `permissions.secrets` for the key.
 */
export interface AdviceOptions {
  /** Base URL ending in `/v1` (`https://api.openai.com/v1`). */
  url: string;
  /** Name of the secret holding the API key. */
  apiKeySecret: string;
  /** @default 'gpt-4o-mini' */
  model?: string;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

const clip = (text: string, max: number): string => (text.length > max ? `…${text.slice(-max)}` : text);

export function diagnosticsPrompt(summary: string, diagnostics: Diagnostics): string {
  const events = diagnostics.events.map(
    (e) =>
      `${e.time ?? ''} ${e.type ?? ''} ${e.involvedObject.kind ?? ''}/${e.involvedObject.name ?? ''} ${e.reason ?? ''}: ${e.message ?? ''}`,
  );
  const logs = diagnostics.logs.map((log) => `--- ${log.pod}\n${clip(log.text, 2000)}`);
  return [summary, 'Kubernetes events:', ...events, 'Pod logs (last lines):', ...logs].join('\n');
}

export async function incidentAdvice(options: AdviceOptions, prompt: string): Promise<string | undefined> {
  let key: string;
  try {
    key = await secrets.get(options.apiKeySecret);
  } catch (error) {
    if (error instanceof CancelledError) throw error;
    log.info(`no incident advice: the secret '${options.apiKeySecret}' is not available (${messageOf(error)})`);
    return undefined;
  }
  try {
    const response = await http.request(
      {
        url: `${options.url.replace(/\/+$/, '')}/chat/completions`,
        method: 'POST',
        headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
        body: {
          model: options.model ?? 'gpt-4o-mini',
          temperature: 0,
          messages: [
            {
              role: 'system',
              content:
                'You are an SRE. Given a failed rollout, its Kubernetes events and pod logs, name the likely cause and the next steps, briefly.',
            },
            { role: 'user', content: prompt },
          ],
        },
      },
      { retry: { maxAttempts: 3 } },
    );
    const body = response.body as { choices?: Array<{ message?: { content?: string } }> };
    return body.choices?.[0]?.message?.content?.trim() || undefined;
  } catch (error) {
    // Advice is a bonus: its failure must not stop a rollback. A cancellation of the run still does.
    if (error instanceof CancelledError) throw error;
    log.warn(`no incident advice: ${options.url} failed (${messageOf(error)})`);
    return undefined;
  }
}
