// The queue publish route belongs to the internal lane: same scope, codec and caching rules.
export { default } from '../world/autohooks.js'
