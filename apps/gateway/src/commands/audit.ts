import type { CliCommand } from '../cli.js';
import { configOption, SHARED_HELP, withStore } from './keys.js';

/** `bulwark audit verify`: re-computes the audit log's hash chain. */
export function createAuditVerifyCommand(): CliCommand {
  return {
    name: 'audit verify',
    summary: 'Verify the hash chain of the audit log (exit 1 at the first break)',
    synopsis: '[--config <file>]',
    help: SHARED_HELP,
    options: { ...configOption },
    run: (context) =>
      withStore(context, async (store) => {
        const result = await store.audit.verify();
        if (result.ok) {
          context.io.stdout.write(`audit log intact: ${result.count} entr${result.count === 1 ? 'y' : 'ies'}\n`);
          return 0;
        }
        context.io.stderr.write(`audit log BROKEN at entry ${result.brokenAt}: ${result.reason.replaceAll('_', ' ')}\n`);
        return 1;
      }),
  };
}
