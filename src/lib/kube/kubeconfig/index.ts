/**
 * `obsctl kubeconfig merge` (seed Phase 1.2) and `cluster remove`'s kubeconfig part: each cluster's
 * kubeadm admin.conf becomes three entries named after the cluster, merged into one kubeconfig file.
 * parse (admin.conf, entries, the target document) → plan (decide, edit, verify) → write (backup, 0600,
 * masked diff); ssh reads admin.conf from a node; remove cuts a cluster's entries out again.
 */
export * from './parse.js'
export * from './plan.js'
export * from './write.js'
export * from './ssh.js'
export * from './remove.js'
export * from './chain.js'
