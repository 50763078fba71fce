/** Part 2 of the --help examples (see ./help-examples.ts: every example of every command runs). */
import {exampleShard} from './help-examples.js'

exampleShard(2)
