import { readFileSync } from 'node:fs'

function findPackageVersion (): string {
  // Sources run from the repository root, the build from dist/: the manifest is one or two up.
  for (const relative of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8'))
      if (pkg.name === '@workflow-studio/compute-worker') return pkg.version
    } catch {}
  }
  return '0.0.0'
}

export const VERSION = findPackageVersion()
