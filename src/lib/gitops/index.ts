/**
 * The GitOps repository: render templates/gitops/ from the inventory into the working copy,
 * commit and push. Public surface for commands and other domains (upgrade chart, config set,
 * cluster add/remove call renderRepo, then read the result or call commitRender/push themselves).
 */
export {renderRepo, commitMessage, commitRender, repoInSync, type RenderOptions, type RenderResult} from './repo.js'
export {renderFiles, APPS, WAVES, type AppDef, type Layer, type RenderedFile} from './plan.js'
export {planRender, applyRender, readManifest, MANIFEST_FILE, type RenderPlan, type RenderManifest, type Conflict} from './render.js'
export {
  ensureRepo,
  ensureOrigin,
  commitManaged,
  push,
  remoteHead,
  readRemoteHead,
  remoteLocation,
  unifiedDiff,
  git,
  isRepo,
  type GitChanges,
  type PushResult,
} from './git.js'
export {renderFingerprint, renderDir} from './fingerprint.js'
export {TEMPLATES_DIR} from './templates.js'
export {TRAILER, inventoryTrailers, inventoryHash, recordInventory, recordedInventory, parseTrailers, withTrailers, type Trailers} from './trailers.js'
