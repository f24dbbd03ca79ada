import { createRequire } from 'node:module'
import { createLocalWorld } from '@workflow/world-local'
import { setWorld } from 'workflow/runtime'
import { start } from 'workflow/api'
const world = createLocalWorld({ dataDir: '/tmp/bare/data-' + Date.now() })
setWorld(world)
const require = createRequire('/tmp/bare/x.js')
const flow = require('/tmp/bare/flow.js'); const step = require('/tmp/bare/step.js')
world.registerHandler('__wkf_workflow_', (req) => flow.POST(req))
world.registerHandler('__wkf_step_', (req) => step.POST(req))
await world.start()
const t0 = Date.now()
const run = await start({ workflowId: 'workflow//./workflows/demo//manySleeps' } as any, [Number(process.argv[2] ?? 60)], { world })
for (;;) { const r = await world.runs.get(run.runId); if (['completed','failed','cancelled'].includes(r.status)) { console.log(r.status, r.output, r.error, Date.now() - t0); break } await new Promise(r => setTimeout(r, 50)) }
await world.close()
