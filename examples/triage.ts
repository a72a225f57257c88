import policies from './.triage-policies.yml';
import { triage } from 'autoflow/blocks';

/**
 * gitlab-triage's policy file beside this one, run on demo/app every weekday at 07:00 (docs/triage.md).
 * Preview a pass without changing anything: `autoflow run triage --input '{"dryRun":true}' --wait`.
 */
export default triage({ name: 'triage', policies, projects: ['demo/app'], schedule: '0 7 * * 1-5' });
