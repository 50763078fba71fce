/** Human formatting shared by commands' views (./views/): tables (the table itself is ../table.ts, which the engine's views use too). */
export {table} from '../table.js'
