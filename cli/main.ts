import fs from 'node:fs';
import path from 'node:path';

/**
 * `mlagent <command> …`: each command is a module in cli/commands/<command>.ts exporting
 * `describe` (one line) and `run(argv)`, so adding a command touches no shared file.
 */
export interface CliCommand {
  describe: string;
  run(argv: string[]): Promise<number | void>;
}

function commandNames(): string[] {
  return fs
    .readdirSync(path.join(__dirname, 'commands'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
}

async function main(): Promise<number> {
  const [name, ...argv] = process.argv.slice(2);
  const names = commandNames();
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log('usage: mlagent <command> [options]\n\ncommands:');
    for (const n of names) {
      const cmd = (await import(`./commands/${n}`)) as CliCommand;
      console.log(`  ${n.padEnd(10)} ${cmd.describe}`);
    }
    return name ? 0 : 1;
  }
  if (!names.includes(name)) {
    console.error(`mlagent: unknown command '${name}' (known: ${names.join(', ')})`);
    return 2;
  }
  const cmd = (await import(`./commands/${name}`)) as CliCommand;
  return (await cmd.run(argv)) ?? 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`mlagent: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
