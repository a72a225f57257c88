import { log, race, signal, sleep, workflow } from 'autoflow';

/**
 * Waits for a person: `autoflow signal <run-id> approve --data '{"by":"alice"}'` continues it;
 * without an answer it reminds once after an hour and gives up after a day.
 */
export default workflow({
  name: 'wait-for-approval',
  description: 'Waits up to a day for an "approve" signal, with a reminder after an hour',
  async run(input: { change?: string } | null) {
    const change = input?.change ?? 'the change';
    const first = await race({ approved: signal('approve'), reminder: sleep('1h') });
    if (first.key === 'approved') return { approved: true, change, by: first.value };
    log.warn(`no answer yet for ${change}: reminding`);
    const answer = await signal('approve', { timeout: '23h' });
    return answer === null ? { approved: false, change, reason: 'no answer within a day' } : { approved: true, change, by: answer };
  },
});
