import { SPEC_VERSION_SUPPORTS_EVENT_SOURCING, type World } from '@workflow/world'

/**
 * The spec version `world` creates runs at, as start() decides it in @workflow/core 4.8.9's runtime/start.js: the
 * World's own, else the baseline every community World built on an older @workflow/world handles.
 */
export function worldSpecVersion (world: World): number {
  return world.specVersion ?? SPEC_VERSION_SUPPORTS_EVENT_SOURCING
}
