import { parseArgs, type ParseArgsConfig } from 'node:util'

/** Bad command-line input: printed as is (no stack), exit code 1. */
export class UsageError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

export interface ParsedArgs {
  values: Record<string, string | boolean | Array<string | boolean> | undefined>
  positionals: string[]
}

/** node:util parseArgs, strict, with its errors turned into UsageErrors that name the command. */
export function parseCommandArgs (command: string, args: string[], options: NonNullable<ParseArgsConfig['options']>): ParsedArgs {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true })
  } catch (error) {
    throw new UsageError(`${command}: ${(error as Error).message}`)
  }
}
