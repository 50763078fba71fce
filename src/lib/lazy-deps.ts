/**
 * Dependencies that only some paths of a command run — the inventory's field validators (ipaddr.js, semver), the
 * YAML library and zod — handed out by functions, so that their code is read and run at the first call and not
 * when a module using them loads: `plan` and `config validate` of an unchanged inventory take its parse from the
 * derived-result cache and never call the validators (issue 18: ~4.5 ms, 1.5% of `plan`'s start-up CPU), and
 * with the render, fingerprints and journal read back too, `plan`, `state show` and `config validate` parse and
 * write no YAML and check nothing against a zod schema (yaml ~2.5 ms, zod ~3 ms of reading and running); chalk
 * only when output is coloured (./style.ts: at level 0 no style changes a text, and chalk's own colour detection
 * loads node:tty, node:os and, through node:tty, node:net: ~4 ms); fastest-levenshtein only to
 * say what an unknown value may have meant (./did-you-mean.ts, on an error's path). Call zod's and chalk's members as
 * `zod().member` (the bundle keeps the members it finds called that way).
 *
 * Here (tsc's output, which the tests import) these are plain imports. The bundle replaces this file's text
 * (bin/bundle.mjs `lazyDeps`, which reads the function → package map from this file's own lines) with one
 * require() per function of a bundle entry of its own per package (dist/chunks/lazy/), read and run at the first
 * call. Keep each line of the shapes below (a default or namespace import, a function returning it), and import
 * these packages from no other module of obsctl but as types (the build checks both).
 */
import * as chalkModule from 'chalk'
import * as levenshteinModule from 'fastest-levenshtein'
import ipaddrModule from 'ipaddr.js'
import compare from 'semver/functions/compare.js'
import satisfies from 'semver/functions/satisfies.js'
import minVersion from 'semver/ranges/min-version.js'
import valid from 'semver/functions/valid.js'
import YAML from 'yaml'
import * as zodModule from 'zod'

export const chalk = (): typeof chalkModule => chalkModule
export const levenshtein = (): typeof levenshteinModule => levenshteinModule
export const ipaddr = (): typeof ipaddrModule => ipaddrModule
export const semverCompare = (): typeof compare => compare
export const semverValid = (): typeof valid => valid
export const semverSatisfies = (): typeof satisfies => satisfies
export const semverMinVersion = (): typeof minVersion => minVersion
export const yaml = (): typeof YAML => YAML
export const zod = (): typeof zodModule => zodModule
