#!/usr/bin/env node
import { SettingsError } from './env.js'

type Command = (args: string[]) => Promise<void>

const COMMANDS: Record<string, { summary: string, load: () => Promise<Command> }> = {
  serve: { summary: 'start the worker (the default)', load: async () => (await import('./commands/serve.js')).serve },
  keys: { summary: 'create, list and revoke API keys', load: async () => (await import('./commands/keys.js')).keys },
  migrate: { summary: 'set up the control-plane and World schemas, then exit', load: async () => (await import('./commands/migrate.js')).migrate },
  deploy: { summary: 'upload a Workflow SDK build folder (--activate to make it active)', load: async () => (await import('./commands/deploy.js')).deploy }
}

function usage (): string {
  const lines = Object.entries(COMMANDS).map(([name, { summary }]) => `  ${name.padEnd(10)} ${summary}`)
  return `Usage: compute-worker [command] [options]\n\nCommands:\n${lines.join('\n')}\n`
}

async function main (argv: string[]): Promise<void> {
  const [name = 'serve', ...args] = argv
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage())
    return
  }
  const command = COMMANDS[name]
  if (command === undefined) {
    process.stderr.write(`compute-worker: unknown command "${name}"\n\n${usage()}`)
    process.exitCode = 2
    return
  }
  await (await command.load())(args)
}

main(process.argv.slice(2)).catch((error: Error) => {
  const expected = error instanceof SettingsError || ['OptionsError', 'StrictRemoteGuardError', 'UsageError', 'ApiKeyAdminError', 'WorldSetupError', 'ControlPlaneSetupError', 'DatabaseVersionError', 'CommandError'].includes(error.name)
  process.stderr.write(`compute-worker: ${expected ? error.message : error.stack ?? error.message}\n`)
  process.exit(1)
})
